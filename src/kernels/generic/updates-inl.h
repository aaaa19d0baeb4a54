// Every update rule's vector body, one pass over the parameter block, each
// element replaying the rule's Reference() (src/core/optim/) operation for
// operation. Overloaded on the rule's Scalars; the kernel table picks each
// rule's by its type. Part of the generic layer (generic/kernels-inl.h).

// g, or g + wd*p (fused) when the rule decays weights through the gradient.
template <class X, class V>
inline V Decayed(bool on, V p, float wd, V g) {
  return on ? X::Fma(p, X::Set(wd), g) : g;
}

// What the Adam family computes first at element i: the weight, the (decayed) gradient and the
// moments m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2, stored and returned.
template <class V>
struct AdamLanes {
  V w, grad, m, v;
};
template <class X, class Scalars>
inline AdamLanes<typename X::V> Moments(const Scalars& a, typename X::V w, const float* g, float* m, float* v) {
  // (Built whole, never default-constructed: on some targets the implicit
  // constructor of a struct of vectors lacks the target attribute.)
  const auto grad = Decayed<X>(a.has_weight_decay, w, a.weight_decay, X::Load(g));
  const auto mi = X::Fma(grad, X::Set(a.one_minus_beta1), X::Load(m) * X::Set(a.beta1));
  const auto vi = X::Fma(X::Set(a.one_minus_beta2) * grad, grad, X::Load(v) * X::Set(a.beta2));
  X::Store(mi, m);
  X::Store(vi, v);
  return {w, grad, mi, vi};
}

template <class O>
void Update(const Sgd::Scalars& a, float* p, const float* g, float* const* s, size_t n) {
  float* buf = s[0];
  ForEachLane<O>(n, [&](auto ops, size_t i) DESCENT_ATTR {
    using X = decltype(ops);
    const auto w = X::Load(p + i);
    auto step = Decayed<X>(a.has_weight_decay, w, a.weight_decay, X::Load(g + i));
    if (a.has_momentum) {
      const auto mu = X::Set(a.momentum);
      const auto b = a.first_step ? step : X::Fma(step, X::Set(a.one_minus_dampening), X::Load(buf + i) * mu);
      X::Store(b, buf + i);
      step = a.nesterov ? X::Fma(b, mu, step) : b;
    }
    X::Store(X::Fma(step, X::Set(a.neg_lr), w), p + i);
  });
}

template <class O>
void Update(const Adagrad::Scalars& a, float* p, const float* g, float* const* s, size_t n) {
  float* sum = s[0];
  ForEachLane<O>(n, [&](auto ops, size_t i) DESCENT_ATTR {
    using X = decltype(ops);
    const auto w = X::Load(p + i);
    const auto grad = Decayed<X>(a.has_weight_decay, w, a.weight_decay, X::Load(g + i));
    const auto acc = X::Fma(grad, grad, X::Load(sum + i));
    X::Store(acc, sum + i);
    X::Store(w + (X::Set(a.neg_clr) * grad) / (X::Sqrt(acc) + X::Set(a.eps)), p + i);
  });
}

template <class O>
void Update(const Adadelta::Scalars& a, float* p, const float* g, float* const* s, size_t n) {
  float *sq = s[0], *acc = s[1];
  ForEachLane<O>(n, [&](auto ops, size_t i) DESCENT_ATTR {
    using X = decltype(ops);
    const auto w = X::Load(p + i);
    const auto grad = Decayed<X>(a.has_weight_decay, w, a.weight_decay, X::Load(g + i));
    const auto rho = X::Set(a.rho), one_minus_rho = X::Set(a.one_minus_rho), eps = X::Set(a.eps);
    const auto sq_new = X::Fma(one_minus_rho * grad, grad, X::Load(sq + i) * rho);
    X::Store(sq_new, sq + i);
    const auto old_acc = X::Load(acc + i);
    const auto delta = (X::Sqrt(old_acc + eps) / X::Sqrt(sq_new + eps)) * grad;
    X::Store(X::Fma(one_minus_rho * delta, delta, old_acc * rho), acc + i);
    X::Store(X::Fma(delta, X::Set(a.neg_lr), w), p + i);
  });
}

template <class O>
void Update(const RmsProp::Scalars& a, float* p, const float* g, float* const* s, size_t n) {
  float *sq = s[0], *buf = s[1], *ga = s[2];
  ForEachLane<O>(n, [&](auto ops, size_t i) DESCENT_ATTR {
    using X = decltype(ops);
    const auto w = X::Load(p + i);
    const auto grad = Decayed<X>(a.has_weight_decay, w, a.weight_decay, X::Load(g + i));
    const auto alpha = X::Set(a.alpha), one_minus_alpha = X::Set(a.one_minus_alpha);
    const auto sq_new = X::Fma(one_minus_alpha * grad, grad, X::Load(sq + i) * alpha);
    X::Store(sq_new, sq + i);
    auto avg = X::Sqrt(sq_new);
    if (a.centered) {
      const auto mean = X::Fma(grad, one_minus_alpha, X::Load(ga + i) * alpha);
      X::Store(mean, ga + i);
      avg = X::Sqrt(X::Fma(X::Neg(mean), mean, sq_new));
    }
    avg = avg + X::Set(a.eps);
    if (a.has_momentum) {
      const auto b = X::Load(buf + i) * X::Set(a.momentum) + grad / avg;
      X::Store(b, buf + i);
      X::Store(X::Fma(b, X::Set(a.neg_lr), w), p + i);
    } else {
      X::Store(w + (X::Set(a.neg_lr) * grad) / avg, p + i);
    }
  });
}

// Adam and AdamW.
template <class O>
void Update(const internal::AdamScalars& a, float* p, const float* g, float* const* s, size_t n) {
  float *m = s[0], *v = s[1], *vmax = s[2];
  ForEachLane<O>(n, [&](auto ops, size_t i) DESCENT_ATTR {
    using X = decltype(ops);
    auto w = X::Load(p + i);
    if (a.decoupled) w = w * X::Set(a.decay);
    const auto l = Moments<X>(a, w, g + i, m + i, v + i);
    auto used = l.v;
    if (a.amsgrad) {
      const auto old = X::Load(vmax + i);
      used = X::Select(old > l.v, old, l.v);
      X::Store(used, vmax + i);
    }
    const auto denom = X::Sqrt(used) / X::Set(a.bc2_sqrt) + X::Set(a.eps);
    X::Store(l.w + (X::Set(a.neg_step_size) * l.m) / denom, p + i);
  });
}

template <class O>
void Update(const Adamax::Scalars& a, float* p, const float* g, float* const* s, size_t n) {
  float *m = s[0], *u = s[1];
  ForEachLane<O>(n, [&](auto ops, size_t i) DESCENT_ATTR {
    using X = decltype(ops);
    const auto w = X::Load(p + i);
    const auto grad = Decayed<X>(a.has_weight_decay, w, a.weight_decay, X::Load(g + i));
    const auto mi = X::Fma(grad, X::Set(a.one_minus_beta1), X::Load(m + i) * X::Set(a.beta1));
    const auto decayed = X::Load(u + i) * X::Set(a.beta2);
    const auto bound = X::Abs(grad) + X::Set(a.eps);
    const auto ui = X::Select(decayed > bound, decayed, bound);
    X::Store(mi, m + i);
    X::Store(ui, u + i);
    X::Store(w + (X::Set(a.neg_clr) * mi) / ui, p + i);
  });
}

template <class O>
void Update(const NAdam::Scalars& a, float* p, const float* g, float* const* s, size_t n) {
  float *m = s[0], *v = s[1];
  ForEachLane<O>(n, [&](auto ops, size_t i) DESCENT_ATTR {
    using X = decltype(ops);
    const auto l = Moments<X>(a, X::Load(p + i), g + i, m + i, v + i);
    const auto denom = X::Sqrt(l.v / X::Set(a.bc2)) + X::Set(a.eps);
    const auto w1 = l.w + (X::Set(a.grad_coef) * l.grad) / denom;
    X::Store(w1 + (X::Set(a.avg_coef) * l.m) / denom, p + i);
  });
}

template <class O>
void Update(const RAdam::Scalars& a, float* p, const float* g, float* const* s, size_t n) {
  float *m = s[0], *v = s[1];
  ForEachLane<O>(n, [&](auto ops, size_t i) DESCENT_ATTR {
    using X = decltype(ops);
    const auto l = Moments<X>(a, X::Load(p + i), g + i, m + i, v + i);
    auto update = (l.m / X::Set(a.bc1)) * X::Set(a.lr);
    if (a.rectified) {
      const auto adapt = (X::Set(1.0f) / (X::Sqrt(l.v) + X::Set(a.eps))) * X::Set(a.bc2_sqrt);
      update = (update * adapt) * X::Set(a.rect);
    }
    X::Store(l.w - update, p + i);
  });
}

// Every optimizer update as a Highway kernel, one pass over the whole
// parameter block per step. Each lane replays the scalar reference
// (src/kernels/scalar_kernels.cc) operation for operation.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "src/kernels/highway/optim_kernels.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "src/kernels/highway/vector_math-inl.h"
#include "src/kernels/kernels.h"

HWY_BEFORE_NAMESPACE();
namespace descent {
namespace HWY_NAMESPACE {
namespace {

using kernels::AdadeltaArgs;
using kernels::AdagradArgs;
using kernels::AdamArgs;
using kernels::AdamaxArgs;
using kernels::NAdamArgs;
using kernels::RAdamArgs;
using kernels::RmsPropArgs;
using kernels::SgdArgs;

// g, or g + wd*p (fused) when the rule decays weights through the gradient.
template <class D, class V = hn::Vec<D>>
HWY_INLINE V Decayed(D d, bool on, V p, float wd, V g) {
  return on ? Fma(d, p, hn::Set(d, wd), g) : g;
}

// Adam's moments at p[i..]: m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2, stored and returned.
template <class D, class Args, class V = hn::Vec<D>>
HWY_INLINE void Moments(D d, const Args& a, V grad, float* HWY_RESTRICT m, float* HWY_RESTRICT v, V* mi, V* vi) {
  *mi = Fma(d, grad, hn::Set(d, a.one_minus_beta1), hn::Mul(hn::LoadU(d, m), hn::Set(d, a.beta1)));
  *vi = Fma(d, hn::Mul(hn::Set(d, a.one_minus_beta2), grad), grad, hn::Mul(hn::LoadU(d, v), hn::Set(d, a.beta2)));
  hn::StoreU(*mi, d, m);
  hn::StoreU(*vi, d, v);
}

void SgdUpdate(const SgdArgs& a, float* HWY_RESTRICT p, const float* HWY_RESTRICT g,
               float* HWY_RESTRICT buf, size_t n) {
  ForEachLane(n, [&](auto d, size_t i) {
    const auto w = hn::LoadU(d, p + i);
    auto step = Decayed(d, a.has_weight_decay, w, a.weight_decay, hn::LoadU(d, g + i));
    if (a.has_momentum) {
      const auto mu = hn::Set(d, a.momentum);
      const auto b = a.first_step ? step
                                  : Fma(d, step, hn::Set(d, a.one_minus_dampening), hn::Mul(hn::LoadU(d, buf + i), mu));
      hn::StoreU(b, d, buf + i);
      step = a.nesterov ? Fma(d, b, mu, step) : b;
    }
    hn::StoreU(Fma(d, step, hn::Set(d, a.neg_lr), w), d, p + i);
  });
}

void AdagradUpdate(const AdagradArgs& a, float* HWY_RESTRICT p, const float* HWY_RESTRICT g,
                   float* HWY_RESTRICT sum, size_t n) {
  ForEachLane(n, [&](auto d, size_t i) {
    const auto w = hn::LoadU(d, p + i);
    const auto grad = Decayed(d, a.has_weight_decay, w, a.weight_decay, hn::LoadU(d, g + i));
    const auto s = Fma(d, grad, grad, hn::LoadU(d, sum + i));
    hn::StoreU(s, d, sum + i);
    const auto denom = hn::Add(hn::Sqrt(s), hn::Set(d, a.eps));
    hn::StoreU(hn::Add(w, hn::Div(hn::Mul(hn::Set(d, a.neg_clr), grad), denom)), d, p + i);
  });
}

void AdadeltaUpdate(const AdadeltaArgs& a, float* HWY_RESTRICT p, const float* HWY_RESTRICT g,
                    float* HWY_RESTRICT sq, float* HWY_RESTRICT acc, size_t n) {
  ForEachLane(n, [&](auto d, size_t i) {
    const auto w = hn::LoadU(d, p + i);
    const auto grad = Decayed(d, a.has_weight_decay, w, a.weight_decay, hn::LoadU(d, g + i));
    const auto rho = hn::Set(d, a.rho), one_minus_rho = hn::Set(d, a.one_minus_rho), eps = hn::Set(d, a.eps);
    const auto s = Fma(d, hn::Mul(one_minus_rho, grad), grad, hn::Mul(hn::LoadU(d, sq + i), rho));
    hn::StoreU(s, d, sq + i);
    const auto std_dev = hn::Sqrt(hn::Add(s, eps));
    const auto old_acc = hn::LoadU(d, acc + i);
    const auto delta = hn::Mul(hn::Div(hn::Sqrt(hn::Add(old_acc, eps)), std_dev), grad);
    hn::StoreU(Fma(d, hn::Mul(one_minus_rho, delta), delta, hn::Mul(old_acc, rho)), d, acc + i);
    hn::StoreU(Fma(d, delta, hn::Set(d, a.neg_lr), w), d, p + i);
  });
}

void RmsPropUpdate(const RmsPropArgs& a, float* HWY_RESTRICT p, const float* HWY_RESTRICT g,
                   float* HWY_RESTRICT sq, float* HWY_RESTRICT buf, float* HWY_RESTRICT ga, size_t n) {
  ForEachLane(n, [&](auto d, size_t i) {
    const auto w = hn::LoadU(d, p + i);
    const auto grad = Decayed(d, a.has_weight_decay, w, a.weight_decay, hn::LoadU(d, g + i));
    const auto alpha = hn::Set(d, a.alpha), one_minus_alpha = hn::Set(d, a.one_minus_alpha);
    const auto s = Fma(d, hn::Mul(one_minus_alpha, grad), grad, hn::Mul(hn::LoadU(d, sq + i), alpha));
    hn::StoreU(s, d, sq + i);
    auto avg = hn::Sqrt(s);
    if (a.centered) {
      const auto mean = Fma(d, grad, one_minus_alpha, hn::Mul(hn::LoadU(d, ga + i), alpha));
      hn::StoreU(mean, d, ga + i);
      avg = hn::Sqrt(Fma(d, hn::Neg(mean), mean, s));
    }
    avg = hn::Add(avg, hn::Set(d, a.eps));
    if (a.has_momentum) {
      const auto b = hn::Add(hn::Mul(hn::LoadU(d, buf + i), hn::Set(d, a.momentum)), hn::Div(grad, avg));
      hn::StoreU(b, d, buf + i);
      hn::StoreU(Fma(d, b, hn::Set(d, a.neg_lr), w), d, p + i);
    } else {
      hn::StoreU(hn::Add(w, hn::Div(hn::Mul(hn::Set(d, a.neg_lr), grad), avg)), d, p + i);
    }
  });
}

void AdamUpdate(const AdamArgs& a, float* HWY_RESTRICT p, const float* HWY_RESTRICT g,
                float* HWY_RESTRICT m, float* HWY_RESTRICT v, float* HWY_RESTRICT vmax, size_t n) {
  ForEachLane(n, [&](auto d, size_t i) {
    auto w = hn::LoadU(d, p + i);
    if (a.decoupled) w = hn::Mul(w, hn::Set(d, a.decay));
    const auto grad = Decayed(d, a.has_weight_decay, w, a.weight_decay, hn::LoadU(d, g + i));
    hn::Vec<decltype(d)> mi, vi;
    Moments(d, a, grad, m + i, v + i, &mi, &vi);
    auto used = vi;
    if (a.amsgrad) {
      used = Greater(hn::LoadU(d, vmax + i), vi);
      hn::StoreU(used, d, vmax + i);
    }
    const auto denom = hn::Add(hn::Div(hn::Sqrt(used), hn::Set(d, a.bc2_sqrt)), hn::Set(d, a.eps));
    hn::StoreU(hn::Add(w, hn::Div(hn::Mul(hn::Set(d, a.neg_step_size), mi), denom)), d, p + i);
  });
}

void AdamaxUpdate(const AdamaxArgs& a, float* HWY_RESTRICT p, const float* HWY_RESTRICT g,
                  float* HWY_RESTRICT m, float* HWY_RESTRICT u, size_t n) {
  ForEachLane(n, [&](auto d, size_t i) {
    const auto w = hn::LoadU(d, p + i);
    const auto grad = Decayed(d, a.has_weight_decay, w, a.weight_decay, hn::LoadU(d, g + i));
    const auto mi = Fma(d, grad, hn::Set(d, a.one_minus_beta1), hn::Mul(hn::LoadU(d, m + i), hn::Set(d, a.beta1)));
    const auto ui = Greater(hn::Mul(hn::LoadU(d, u + i), hn::Set(d, a.beta2)), hn::Add(hn::Abs(grad), hn::Set(d, a.eps)));
    hn::StoreU(mi, d, m + i);
    hn::StoreU(ui, d, u + i);
    hn::StoreU(hn::Add(w, hn::Div(hn::Mul(hn::Set(d, a.neg_clr), mi), ui)), d, p + i);
  });
}

void NAdamUpdate(const NAdamArgs& a, float* HWY_RESTRICT p, const float* HWY_RESTRICT g,
                 float* HWY_RESTRICT m, float* HWY_RESTRICT v, size_t n) {
  ForEachLane(n, [&](auto d, size_t i) {
    const auto w = hn::LoadU(d, p + i);
    const auto grad = Decayed(d, a.has_weight_decay, w, a.weight_decay, hn::LoadU(d, g + i));
    hn::Vec<decltype(d)> mi, vi;
    Moments(d, a, grad, m + i, v + i, &mi, &vi);
    const auto denom = hn::Add(hn::Sqrt(hn::Div(vi, hn::Set(d, a.bc2))), hn::Set(d, a.eps));
    const auto w1 = hn::Add(w, hn::Div(hn::Mul(hn::Set(d, a.grad_coef), grad), denom));
    hn::StoreU(hn::Add(w1, hn::Div(hn::Mul(hn::Set(d, a.avg_coef), mi), denom)), d, p + i);
  });
}

void RAdamUpdate(const RAdamArgs& a, float* HWY_RESTRICT p, const float* HWY_RESTRICT g,
                 float* HWY_RESTRICT m, float* HWY_RESTRICT v, size_t n) {
  ForEachLane(n, [&](auto d, size_t i) {
    const auto w = hn::LoadU(d, p + i);
    const auto grad = Decayed(d, a.has_weight_decay, w, a.weight_decay, hn::LoadU(d, g + i));
    hn::Vec<decltype(d)> mi, vi;
    Moments(d, a, grad, m + i, v + i, &mi, &vi);
    auto update = hn::Mul(hn::Div(mi, hn::Set(d, a.bc1)), hn::Set(d, a.lr));
    if (a.rectified) {
      const auto adapt = hn::Mul(hn::Div(hn::Set(d, 1.0f), hn::Add(hn::Sqrt(vi), hn::Set(d, a.eps))),
                                 hn::Set(d, a.bc2_sqrt));
      update = hn::Mul(hn::Mul(update, adapt), hn::Set(d, a.rect));
    }
    hn::StoreU(hn::Sub(w, update), d, p + i);
  });
}

}  // namespace
}  // namespace HWY_NAMESPACE
}  // namespace descent
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace descent {
namespace highway {

HWY_EXPORT(SgdUpdate);
HWY_EXPORT(AdagradUpdate);
HWY_EXPORT(AdadeltaUpdate);
HWY_EXPORT(RmsPropUpdate);
HWY_EXPORT(AdamUpdate);
HWY_EXPORT(AdamaxUpdate);
HWY_EXPORT(NAdamUpdate);
HWY_EXPORT(RAdamUpdate);

void Sgd(const kernels::SgdArgs& a, float* p, const float* g, float* buf, size_t n) {
  HWY_DYNAMIC_DISPATCH(SgdUpdate)(a, p, g, buf, n);
}
void Adagrad(const kernels::AdagradArgs& a, float* p, const float* g, float* sum, size_t n) {
  HWY_DYNAMIC_DISPATCH(AdagradUpdate)(a, p, g, sum, n);
}
void Adadelta(const kernels::AdadeltaArgs& a, float* p, const float* g, float* sq, float* acc, size_t n) {
  HWY_DYNAMIC_DISPATCH(AdadeltaUpdate)(a, p, g, sq, acc, n);
}
void RmsProp(const kernels::RmsPropArgs& a, float* p, const float* g, float* sq, float* buf, float* ga,
             size_t n) {
  HWY_DYNAMIC_DISPATCH(RmsPropUpdate)(a, p, g, sq, buf, ga, n);
}
void Adam(const kernels::AdamArgs& a, float* p, const float* g, float* m, float* v, float* vmax, size_t n) {
  HWY_DYNAMIC_DISPATCH(AdamUpdate)(a, p, g, m, v, vmax, n);
}
void Adamax(const kernels::AdamaxArgs& a, float* p, const float* g, float* m, float* u, size_t n) {
  HWY_DYNAMIC_DISPATCH(AdamaxUpdate)(a, p, g, m, u, n);
}
void NAdam(const kernels::NAdamArgs& a, float* p, const float* g, float* m, float* v, size_t n) {
  HWY_DYNAMIC_DISPATCH(NAdamUpdate)(a, p, g, m, v, n);
}
void RAdam(const kernels::RAdamArgs& a, float* p, const float* g, float* m, float* v, size_t n) {
  HWY_DYNAMIC_DISPATCH(RAdamUpdate)(a, p, g, m, v, n);
}

}  // namespace highway
}  // namespace descent
#endif  // HWY_ONCE

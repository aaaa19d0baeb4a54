// The Highway backend's kernel table and its instruction-set selection
// (Highway's own dynamic dispatch, optionally pinned by DESCENT_ISA).
#include <stdlib.h>
#include <string.h>

#include "descent/backend.h"
#include "hwy/highway.h"
#include "hwy/targets.h"
#include "src/kernels/kernels.h"

namespace descent {
namespace highway {
// Defined in mlp_kernels.cc and optim_kernels.cc.
void ScalePixels(const uint8_t* src, float* dst, size_t n);
void LinearForward(const float* x, size_t x_stride, const float* wt, size_t wt_stride, float* y, size_t y_stride,
                   size_t rows, size_t in, size_t out, bool relu, bool sparse_x);
void LinearBackwardParamsT(const float* x, size_t x_stride, const float* dy, size_t dy_stride, float* dwt,
                           size_t dwt_stride, size_t rows, size_t in, size_t out);
void BiasGradient(const float* dy, size_t dy_stride, float* db, size_t rows, size_t out);
void LinearBackwardInput(const float* dy, size_t dy_stride, const float* wp, size_t wp_stride, const float* act,
                         size_t act_stride, float* dx, size_t dx_stride, size_t rows, size_t in, size_t out);
void LinearBackwardParams(const float* dy, size_t dy_stride, const float* x, size_t x_stride, float* dw, float* db,
                          size_t rows, size_t in, size_t out);
void LogSoftmaxNll(const float* z, size_t stride, const uint8_t* labels, size_t rows, size_t classes, size_t batch,
                   float* loss, float* dz);
void Sgd(const kernels::SgdArgs& a, float* p, const float* g, float* buf, size_t n);
void Adagrad(const kernels::AdagradArgs& a, float* p, const float* g, float* sum, size_t n);
void Adadelta(const kernels::AdadeltaArgs& a, float* p, const float* g, float* sq, float* acc, size_t n);
void RmsProp(const kernels::RmsPropArgs& a, float* p, const float* g, float* sq, float* buf, float* ga, size_t n);
void Adam(const kernels::AdamArgs& a, float* p, const float* g, float* m, float* v, float* vmax, size_t n);
void Adamax(const kernels::AdamaxArgs& a, float* p, const float* g, float* m, float* u, size_t n);
void NAdam(const kernels::NAdamArgs& a, float* p, const float* g, float* m, float* v, size_t n);
void RAdam(const kernels::RAdamArgs& a, float* p, const float* g, float* m, float* v, size_t n);

namespace {

const kernels::Kernels& HighwayKernels() {
  static const kernels::Kernels table = [] {
    kernels::Kernels k{};
    k.backend = "highway";
    k.scale_pixels = ScalePixels;
    k.linear_forward = LinearForward;
    k.linear_backward_input = LinearBackwardInput;
    k.linear_backward_params = LinearBackwardParams;
    k.linear_backward_params_t = LinearBackwardParamsT;
    k.bias_gradient = BiasGradient;
    k.log_softmax_nll = LogSoftmaxNll;
    k.sgd = Sgd;
    k.adagrad = Adagrad;
    k.adadelta = Adadelta;
    k.rmsprop = RmsProp;
    k.adam = Adam;
    k.adamax = Adamax;
    k.nadam = NAdam;
    k.radam = RAdam;
    return k;
  }();
  return table;
}

// Our names for Highway's targets.
struct Isa {
  int64_t target;
  const char* name;
};
constexpr Isa kIsas[] = {
    {HWY_AVX3_DL, "avx512_dl"}, {HWY_AVX3, "avx512"}, {HWY_AVX2, "avx2"},     {HWY_SSE4, "sse4"},
    {HWY_SSSE3, "ssse3"},       {HWY_SVE2, "sve2"},   {HWY_SVE, "sve"},       {HWY_NEON, "neon"},
    {HWY_EMU128, "emu128"},     {HWY_SCALAR, "hwy_scalar"},
};

size_t ListIsas(int64_t mask, const char** names, size_t capacity) {
  size_t n = 0;
  for (const Isa& isa : kIsas) {
    if (!(mask & isa.target)) continue;
    if (n < capacity) names[n] = isa.name;
    ++n;
  }
  if (n < capacity) names[n] = "scalar";
  return n + 1;
}

const kernels::Kernels* g_active = nullptr;
const char* g_isa = nullptr;

void ChooseBest() {
  const int64_t usable = hwy::SupportedTargets() & HWY_TARGETS;
  for (const Isa& isa : kIsas)
    if (usable & isa.target) {
      hwy::GetChosenTarget().Update(isa.target);
      g_active = &HighwayKernels();
      g_isa = isa.name;
      return;
    }
  g_active = &kernels::ScalarKernels();
  g_isa = "scalar";
}

void Initialize() {
  if (g_active) return;
  ChooseBest();
  if (const char* pinned = getenv("DESCENT_ISA")) (void)SelectIsa(pinned);
}

}  // namespace
}  // namespace highway

const char* BackendName() { return "highway"; }

size_t CompiledIsas(const char** names, size_t capacity) {
  return highway::ListIsas(HWY_TARGETS, names, capacity);
}

size_t SupportedIsas(const char** names, size_t capacity) {
  return highway::ListIsas(HWY_TARGETS & hwy::SupportedTargets(), names, capacity);
}

const char* ActiveIsa() {
  highway::Initialize();
  return highway::g_isa;
}

Status SelectIsa(const char* name) {
  highway::Initialize();
  if (strcmp(name, "scalar") == 0) {
    highway::g_active = &kernels::ScalarKernels();
    highway::g_isa = "scalar";
    return Status::kOk;
  }
  for (const highway::Isa& isa : highway::kIsas) {
    if (strcmp(name, isa.name) != 0) continue;
    if (!(HWY_TARGETS & hwy::SupportedTargets() & isa.target)) return Status::kUnsupported;
    hwy::GetChosenTarget().Update(isa.target);
    highway::g_active = &highway::HighwayKernels();
    highway::g_isa = isa.name;
    return Status::kOk;
  }
  return Status::kUnsupported;
}

namespace kernels {
const Kernels& ActiveKernels() {
  highway::Initialize();
  return *highway::g_active;
}
}  // namespace kernels

}  // namespace descent

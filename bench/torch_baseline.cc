// libtorch side of the bench: the same MLP, data and batch order as descent.
#include "bench/torch_baseline.h"

#include <dlfcn.h>

#include <chrono>

#include <torch/torch.h>

namespace descent_bench {
namespace {

struct SimpleNet : torch::nn::Module {
  SimpleNet() {
    l0 = register_module("l0", torch::nn::Linear(784, 100));
    l1 = register_module("l1", torch::nn::Linear(100, 100));
    l2 = register_module("l2", torch::nn::Linear(100, 10));
  }
  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(l0->forward(x));
    x = torch::relu(l1->forward(x));
    return torch::log_softmax(l2->forward(x), 1);
  }
  torch::nn::Linear l0{nullptr}, l1{nullptr}, l2{nullptr};
};

// One thread for torch and for its BLAS. Debian's libtorch calls the BLAS the
// alternatives system picks; torch::set_num_threads does not reach OpenBLAS's own
// pool (it would use every core), so it is set here when that library is loaded.
void OneThread() {
  torch::set_num_threads(1);
  if (auto set = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(1);
}

double Seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

double TorchTrainSamplesPerSecond(const uint8_t* pixels, const uint8_t* labels, size_t count, size_t epochs,
                                  double* last_loss) {
  OneThread();
  torch::manual_seed(0);
  const auto n = static_cast<int64_t>(count);
  torch::Tensor x = torch::from_blob(const_cast<uint8_t*>(pixels), {n, 784}, torch::kUInt8).to(torch::kFloat32) / 256;
  torch::Tensor y = torch::from_blob(const_cast<uint8_t*>(labels), {n}, torch::kUInt8).to(torch::kInt64);
  SimpleNet net;
  torch::optim::Adam opt(net.parameters(), torch::optim::AdamOptions(1e-3));
  const double start = Seconds();
  for (size_t e = 0; e < epochs; ++e)
    for (int64_t first = 0; first < n; first += 256) {
      const int64_t rows = std::min<int64_t>(256, n - first);
      opt.zero_grad();
      torch::Tensor loss = torch::nll_loss(net.forward(x.narrow(0, first, rows)), y.narrow(0, first, rows));
      loss.backward();
      opt.step();
      *last_loss = loss.item<double>();
    }
  return static_cast<double>(count * epochs) / (Seconds() - start);
}

double TorchLeNetSamplesPerSecond(const uint8_t* pixels, const uint8_t* labels, size_t count, size_t epochs,
                                  double* last_loss) {
  OneThread();
  torch::manual_seed(0);
  namespace nn = torch::nn;
  const auto n = static_cast<int64_t>(count);
  torch::Tensor x =
      torch::from_blob(const_cast<uint8_t*>(pixels), {n, 1, 28, 28}, torch::kUInt8).to(torch::kFloat32) / 256;
  torch::Tensor y = torch::from_blob(const_cast<uint8_t*>(labels), {n}, torch::kUInt8).to(torch::kInt64);
  nn::Sequential net(nn::Conv2d(nn::Conv2dOptions(1, 6, 5).padding(2)), nn::ReLU(), nn::MaxPool2d(2),
                     nn::Conv2d(nn::Conv2dOptions(6, 16, 5)), nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(),
                     nn::Linear(400, 120), nn::ReLU(), nn::Linear(120, 84), nn::ReLU(), nn::Linear(84, 10));
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-3));
  const double start = Seconds();
  for (size_t e = 0; e < epochs; ++e)
    for (int64_t first = 0; first < n; first += 64) {
      const int64_t rows = std::min<int64_t>(64, n - first);
      opt.zero_grad();
      torch::Tensor loss = torch::cross_entropy_loss(net->forward(x.narrow(0, first, rows)), y.narrow(0, first, rows));
      loss.backward();
      opt.step();
      *last_loss = loss.item<double>();
    }
  return static_cast<double>(count * epochs) / (Seconds() - start);
}

double TorchAdamStepNsPerParam(size_t flat_params, size_t repetitions) {
  OneThread();
  SimpleNet net;
  std::vector<torch::Tensor> params = net.parameters();
  if (flat_params > 0) params = {torch::zeros({static_cast<int64_t>(flat_params)}, torch::requires_grad())};
  size_t count = 0;
  for (auto& p : params) {
    p.mutable_grad() = torch::randn_like(p);
    count += static_cast<size_t>(p.numel());
  }
  torch::optim::Adam opt(params, torch::optim::AdamOptions(1e-3));
  opt.step();  // state allocation happens on the first step
  const double start = Seconds();
  for (size_t i = 0; i < repetitions; ++i) opt.step();
  return (Seconds() - start) * 1e9 / static_cast<double>(repetitions * count);
}

int BlasThreads() {
  auto get = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return get ? get() : 0;
}

}  // namespace descent_bench

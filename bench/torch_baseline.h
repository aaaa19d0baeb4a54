// libtorch baselines measured in the same run (built with -Dlibtorch=enabled).
#ifndef DESCENT_BENCH_TORCH_BASELINE_H_
#define DESCENT_BENCH_TORCH_BASELINE_H_

#include <stddef.h>
#include <stdint.h>

namespace descent_bench {

// Trains the notebook's MLP with torch::optim::Adam (lr 1e-3, batch 256, no
// shuffle, one thread); returns samples per second and the final mean loss.
double TorchTrainSamplesPerSecond(const uint8_t* pixels, const uint8_t* labels, size_t count, size_t epochs,
                                  double* last_loss);
// Trains LeNet-5 (conv 6@5 padding 2, ReLU, max pool 2, conv 16@5, ReLU, max pool 2, Linear
// 120, 84, 10; cross-entropy) with torch::optim::Adam (lr 1e-3, batch 64, no shuffle, one thread);
// returns samples per second and the final mean loss.
double TorchLeNetSamplesPerSecond(const uint8_t* pixels, const uint8_t* labels, size_t count, size_t epochs,
                                  double* last_loss);
// ns per parameter of torch::optim::Adam::step() on the MLP's six tensors
// (flat_params == 0) or on one tensor of flat_params parameters.
double TorchAdamStepNsPerParam(size_t flat_params, size_t repetitions);
// OpenBLAS's thread count (each function above sets it to 1), 0 for another BLAS.
int BlasThreads();

}  // namespace descent_bench

#endif  // DESCENT_BENCH_TORCH_BASELINE_H_

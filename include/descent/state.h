// Saving a model and its optimizer into a caller-provided byte buffer, or
// piece by piece through a caller's writer (flash pages: no RAM copy of the
// image), and loading it back, with no heap. The image is
//   header (magic "DSC1", sizes, a signature of the architecture and of the
//   rule, the step clock) | parameters | optimizer slots | CRC-32 of all before it
// little-endian float32. A corrupted or foreign image is detected, never loaded.
#ifndef DESCENT_STATE_H_
#define DESCENT_STATE_H_

#include <stddef.h>
#include <stdint.h>

#include <type_traits>

#include "descent/train.h"
#include "descent/optimizer.h"
#include "descent/status.h"

namespace descent {

// CRC-32 (IEEE 802.3, as zlib's crc32), continuing from `crc` (0 to start).
uint32_t Crc32(const void* bytes, size_t size, uint32_t crc = 0);

// Where SaveState puts an image piece by piece (flash page writes, a file, a radio):
// write(context, offset, bytes, size) stores `size` bytes at `offset` of the image, in
// increasing offsets; false stops the save (kIoError). The image never sits in RAM whole.
struct StateWriter {
  void* context;
  bool (*write)(void* context, size_t offset, const void* bytes, size_t size);
};
// Where LoadState reads one: read(context, offset, bytes, size) fills `bytes` from the image
// at `offset`; false stops the load (kIoError). An image is read twice: once to check its
// CRC, then into the model and optimizer, so nothing is overwritten by a corrupted one.
struct StateReader {
  void* context;
  bool (*read)(void* context, size_t offset, void* bytes, size_t size);
};

namespace internal {
inline constexpr size_t kStateHeaderBytes = 48;
struct StateRef {
  uint32_t architecture;  // FNV-1a of the layer sizes
  uint32_t rule;          // FNV-1a of the rule's name
  float* params;
  size_t num_params;
  float* const* slots;
  size_t num_slots;
  StepClock* clock;
};
Status SaveState(const StateRef& state, const StateWriter& writer, size_t* written);
Status LoadState(const StateRef& state, const StateReader& reader, size_t size);
// A caller's buffer as a writer / reader.
struct Span {
  uint8_t* bytes;
  size_t size;
};
StateWriter BufferWriter(Span* span);
StateReader BufferReader(Span* span);
uint32_t Signature(const size_t* sizes, size_t count);
uint32_t Signature(const char* name);
// The layer sizes' signature, mixed with the activation, loss and frozen layers where they
// are not the notebook's (so images of ReLU + NLL models read as they always have).
uint32_t Signature(const Layout& layout);
template <class Net, class Opt>
StateRef MakeStateRef(const Net& net, const Opt& opt, float* (&slots)[Opt::kSlots + 1]) {
  using Rule = typename std::remove_cv<typename std::remove_reference<decltype(opt.hyperparameters())>::type>::type;
  for (size_t k = 0; k < Opt::kSlots; ++k) slots[k] = const_cast<float*>(opt.slot(k));
  return {Signature(Net::kLayout), Signature(Rule::kName), const_cast<float*>(net.params()), Net::kNumTrainable,
          slots, Opt::kSlots, const_cast<StepClock*>(&opt.clock())};
}
}  // namespace internal

// Bytes SaveState writes for this model and optimizer: usable in static_assert.
template <class Net, class Opt>
constexpr size_t StateBytes() {
  return internal::kStateHeaderBytes + sizeof(float) * Net::kNumTrainable * (1 + Opt::kSlots) + 4;
}

// kCapacityExceeded if the buffer is smaller than StateBytes<Net, Opt>().
template <class Net, class Opt>
Status SaveState(const Net& net, const Opt& opt, uint8_t* buffer, size_t capacity, size_t* written) {
  float* slots[Opt::kSlots + 1];
  if (capacity < StateBytes<Net, Opt>()) return Status::kCapacityExceeded;
  internal::Span span{buffer, capacity};
  return internal::SaveState(internal::MakeStateRef(net, opt, slots), internal::BufferWriter(&span), written);
}
// The same image through a writer (StateBytes<Net, Opt>() bytes at offsets 0, 1, ...).
template <class Net, class Opt>
Status SaveState(const Net& net, const Opt& opt, const StateWriter& writer, size_t* written) {
  float* slots[Opt::kSlots + 1];
  return internal::SaveState(internal::MakeStateRef(net, opt, slots), writer, written);
}

// kInvalidArgument for a corrupted image (CRC), kShapeMismatch for one saved by
// another architecture or optimizer; on any failure net and opt are untouched.
// The hyperparameters are the optimizer's own: the image holds only state.
template <class Net, class Opt>
Status LoadState(Net& net, Opt& opt, const uint8_t* buffer, size_t size) {
  float* slots[Opt::kSlots + 1];
  internal::Span span{const_cast<uint8_t*>(buffer), size};
  return internal::LoadState(internal::MakeStateRef(net, opt, slots), internal::BufferReader(&span), size);
}
// The same from a reader holding an image of `size` bytes.
template <class Net, class Opt>
Status LoadState(Net& net, Opt& opt, const StateReader& reader, size_t size) {
  float* slots[Opt::kSlots + 1];
  return internal::LoadState(internal::MakeStateRef(net, opt, slots), reader, size);
}

// Weights only, no optimizer (a model to ship, or to start from): the same image
// with no state arrays, under the rule name "weights". With frozen layers, the
// trained parameters (the frozen block is the caller's).
template <class Net>
constexpr size_t WeightsBytes() {
  return internal::kStateHeaderBytes + sizeof(float) * Net::kNumTrainable + 4;
}
template <class Net>
Status SaveWeights(const Net& net, uint8_t* buffer, size_t capacity, size_t* written) {
  StepClock clock;
  const internal::StateRef ref = {internal::Signature(Net::kLayout), internal::Signature("weights"),
                                  const_cast<float*>(net.params()), Net::kNumTrainable, nullptr, 0, &clock};
  if (capacity < WeightsBytes<Net>()) return Status::kCapacityExceeded;
  internal::Span span{buffer, capacity};
  return internal::SaveState(ref, internal::BufferWriter(&span), written);
}
// kInvalidArgument for a corrupted image, kShapeMismatch for another model's (or a
// state image); net is untouched on failure.
template <class Net>
Status LoadWeights(Net& net, const uint8_t* buffer, size_t size) {
  StepClock clock;
  const internal::StateRef ref = {internal::Signature(Net::kLayout), internal::Signature("weights"), net.params(),
                                  Net::kNumTrainable, nullptr, 0, &clock};
  internal::Span span{const_cast<uint8_t*>(buffer), size};
  return internal::LoadState(ref, internal::BufferReader(&span), size);
}

}  // namespace descent

#endif  // DESCENT_STATE_H_

// Error codes of the core: no exceptions, every fallible call returns a Status.
#ifndef DESCENT_STATUS_H_
#define DESCENT_STATUS_H_

#include <stdint.h>

namespace descent {

enum class Status : uint8_t {
  kOk = 0,
  kInvalidArgument,   // a hyperparameter or argument outside its domain
  kShapeMismatch,     // sizes that do not fit the model
  kNonFinite,         // the loss became NaN or infinite
  kCapacityExceeded,  // more rows than the workspace holds
  kUnsupported,       // e.g. an instruction set this build or CPU lacks
  kIoError,           // a caller's StateWriter / StateReader reported a failure
};

const char* StatusMessage(Status status);

}  // namespace descent

#endif  // DESCENT_STATUS_H_

// Status messages.
#include "descent/status.h"

namespace descent {

const char* StatusMessage(Status status) {
  switch (status) {
    case Status::kOk: return "ok";
    case Status::kInvalidArgument: return "invalid argument";
    case Status::kShapeMismatch: return "shape mismatch";
    case Status::kNonFinite: return "non-finite value (NaN or infinity)";
    case Status::kCapacityExceeded: return "capacity exceeded";
    case Status::kUnsupported: return "unsupported";
    case Status::kIoError: return "the state writer or reader failed";
  }
  return "unknown status";
}

}  // namespace descent

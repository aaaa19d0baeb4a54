// Must not compile: torch's Linear on a [1, 28, 28] input acts on its last dimension (28), not
// on the image; descent asks for an explicit Flatten (the control is flatten_first.cc).
#include "descent/model.h"

descent::Sequential<descent::Input<1, 28, 28>, descent::Linear<10>> needs_flatten;

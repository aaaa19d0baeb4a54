// Must not compile: a 9x9 kernel does not fit a 6x6 input without padding (an output size below 1).
#include "descent/model.h"

descent::Sequential<descent::Input<1, 6, 6>, descent::Conv2d<4, 9>, descent::Flatten, descent::Linear<10>> too_large;

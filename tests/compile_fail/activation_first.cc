// Must not compile: each activation follows a Linear (descent runs it on that layer's output).
#include "descent/model.h"

descent::Sequential<descent::Input<8>, descent::Tanh, descent::Linear<4>> activation_on_the_input;

// The control for linear_on_image.cc and activation_first.cc: the same layers, well placed.
#include "descent/model.h"

descent::Sequential<descent::Input<1, 28, 28>, descent::Flatten, descent::Linear<10>> flattened;
descent::Sequential<descent::Input<8>, descent::Linear<4>, descent::Tanh, descent::Linear<1, false>, descent::Mse> reg;

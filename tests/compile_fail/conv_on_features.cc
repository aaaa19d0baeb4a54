// Must not compile: a 2-d convolution needs a [C, H, W] input, and this one has [784] (the control,
// conv_on_image.cc, gives it the image).
#include "descent/model.h"

descent::Sequential<descent::Input<784>, descent::Conv2d<4, 3>, descent::Flatten, descent::Linear<10>> needs_image;

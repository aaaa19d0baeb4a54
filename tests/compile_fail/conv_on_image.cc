// The control for conv_on_features.cc and kernel_too_large.cc: convolutions, pooling, batch norm and
// dropout where they fit.
#include "descent/model.h"

descent::Sequential<descent::Input<1, 28, 28>, descent::Conv2d<4, 3>, descent::BatchNorm2d, descent::Relu,
                    descent::MaxPool2d<2>, descent::Dropout<10>, descent::Flatten, descent::Linear<10>> cnn;
descent::Sequential<descent::Input<1, 6, 6>, descent::Conv2d<4, 9, 1, 2>, descent::Flatten, descent::Linear<10>> padded;
descent::Sequential<descent::Input<3, 32>, descent::Conv1d<8, 5, 1, 2>, descent::AvgPool1d<2>,
                    descent::AdaptiveAvgPool1d<1>, descent::Flatten, descent::Linear<4>> sequence;

// Must not compile: a softmax over one class has NLL 0 whatever the weights, so a
// one-output Mlp would "train" without learning anything (tests/meson.build expects failure).
#include "descent/mlp.h"

descent::Mlp<10, 16, 1> regression_needs_another_loss;

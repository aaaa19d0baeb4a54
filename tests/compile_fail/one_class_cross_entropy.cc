// Must not compile: cross-entropy over one output is 0 whatever the weights (a softmax
// over one class is 1); a one-output model takes Mse, L1, Huber or BceWithLogits.
#include "descent/mlp.h"

descent::Model<descent::Sizes<10, 16, 1>, descent::Tanh, descent::CrossEntropy> needs_an_element_loss;

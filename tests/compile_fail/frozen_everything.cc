// Must not compile: with every layer frozen nothing is trained.
#include "descent/mlp.h"

descent::Model<descent::Sizes<10, 16, 2>, descent::Relu, descent::Nll, descent::Frozen<2>> nothing_to_train;

// The control for the one-output cases: regression and binary classification compile.
#include "descent/mlp.h"

descent::Model<descent::Sizes<10, 16, 1>, descent::Tanh, descent::Mse> regression;
descent::Model<descent::Sizes<30, 16, 1>, descent::Sigmoid, descent::BceWithLogits> binary;

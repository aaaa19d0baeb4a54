// The control for the compile-fail cases: the same command compiles a sensible model.
#include "descent/mlp.h"

descent::Mlp<10, 16, 2> binary_classifier;

// Compatibility: the core's model, workspace and training API, as one header
// (it was the MLP's home before models became layer lists).
#ifndef DESCENT_MLP_H_
#define DESCENT_MLP_H_

#include "descent/layout.h"
#include "descent/model.h"
#include "descent/train.h"
#include "descent/workspace.h"

#endif  // DESCENT_MLP_H_

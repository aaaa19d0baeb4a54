// descent: train small neural networks on the CPU with no heap, fixed-size storage and
// torch.optim-exact optimizers. Include this for the whole core API (the host
// library's model files are descent/io.h).
#ifndef DESCENT_DESCENT_H_
#define DESCENT_DESCENT_H_

#include "descent/backend.h"
#include "descent/clip.h"
#include "descent/config.h"
#include "descent/layers.h"
#include "descent/layout.h"
#include "descent/model.h"
#include "descent/optimizer.h"
#include "descent/parallel.h"
#include "descent/rng.h"
#include "descent/schedule.h"
#include "descent/state.h"
#include "descent/status.h"
#include "descent/train.h"
#include "descent/type_list.h"
#include "descent/workspace.h"

#endif  // DESCENT_DESCENT_H_

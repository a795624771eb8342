// SPDX-License-Identifier: MIT
// Distributed training over MPI (tg::distributed): process groups, DistributedDataParallel and
// sharded embedding tables. Not part of tapegrad.hpp: it needs MPI (link tapegrad::mpi).
#pragma once

#include "tapegrad/distributed/process_group.hpp"  // first: it includes <mpi.h> without the C++ bindings

#include "tapegrad/distributed/data_parallel.hpp"
#include "tapegrad/distributed/environment.hpp"
#include "tapegrad/distributed/sharded_embedding_bag.hpp"

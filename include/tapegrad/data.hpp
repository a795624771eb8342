// SPDX-License-Identifier: MIT
// Data: datasets, loaders, collation, tokenising, text readers, progress bars, metrics and plots (tg::data).
#pragma once

#include "tapegrad/data/collate.hpp"
#include "tapegrad/data/dataloader.hpp"
#include "tapegrad/data/dataset.hpp"
#include "tapegrad/data/distributed_sampler.hpp"
#include "tapegrad/data/metrics.hpp"
#include "tapegrad/data/plot.hpp"
#include "tapegrad/data/progress.hpp"
#include "tapegrad/data/text_dataset.hpp"
#include "tapegrad/data/text_files.hpp"
#include "tapegrad/data/tokenizer.hpp"
#include "tapegrad/data/vocabulary_builder.hpp"

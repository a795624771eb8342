// SPDX-License-Identifier: MIT
// File input and output: model files (safetensors, PyTorch's .pt, NumPy's .npy/.npz), training
// checkpoints, vocabularies and pretrained word vectors.
#pragma once

#include "tapegrad/io/checkpoint.hpp"
#include "tapegrad/io/load_options.hpp"
#include "tapegrad/io/npy.hpp"
#include "tapegrad/io/safetensors.hpp"
#include "tapegrad/io/state_dict_file.hpp"
#include "tapegrad/io/torch.hpp"
#include "tapegrad/io/vocabulary.hpp"
#include "tapegrad/io/word_vectors.hpp"

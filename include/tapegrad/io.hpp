// SPDX-License-Identifier: MIT
// File input and output: vocabularies and pretrained word vectors.
#pragma once

#include "tapegrad/io/vocabulary.hpp"
#include "tapegrad/io/word_vectors.hpp"

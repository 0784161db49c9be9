// Chain IDs: one identifier for a stack of applied layers (config.md "Layer ChainID"), the key of
// unpacked snapshots. No I/O. Thread-safe (pure functions).
//
//   ChainID(L0)          = DiffID(L0)
//   ChainID(L0|...|Ln)   = sha256(ChainID(L0|...|Ln-1) + " " + DiffID(Ln))
#pragma once

#include <vector>

#include "oci/digest.h"

namespace berth::oci {

// The chain ID of the whole stack; an empty (invalid) Digest for no layers.
Digest ChainId(const std::vector<Digest>& diff_ids);

// The chain ID of every prefix: result[i] = ChainId(diff_ids[0..i]). Same size as the input.
std::vector<Digest> ChainIds(const std::vector<Digest>& diff_ids);

}  // namespace berth::oci

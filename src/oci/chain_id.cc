#include "oci/chain_id.h"

namespace berth::oci {

std::vector<Digest> ChainIds(const std::vector<Digest>& diff_ids) {
  std::vector<Digest> out;
  out.reserve(diff_ids.size());
  for (const Digest& diff_id : diff_ids) {
    if (out.empty()) {
      out.push_back(diff_id);
    } else {
      out.push_back(Digest::Of(out.back().ToString() + " " + diff_id.ToString()));
    }
  }
  return out;
}

Digest ChainId(const std::vector<Digest>& diff_ids) {
  Digest chain;
  for (const Digest& diff_id : diff_ids) {
    chain = chain.valid() ? Digest::Of(chain.ToString() + " " + diff_id.ToString()) : diff_id;
  }
  return chain;
}

}  // namespace berth::oci

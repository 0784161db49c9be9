#include "snapshot/snapshotter.h"

namespace berth::snapshot {

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kActive:
      return "active";
    case Kind::kView:
      return "view";
    case Kind::kCommitted:
      return "committed";
  }
  return "unknown";
}

}  // namespace berth::snapshot

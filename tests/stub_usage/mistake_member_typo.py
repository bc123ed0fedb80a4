"""A misspelt member: records have no other attributes (the module refuses them)."""

import d3dkmthk as k

args = k.D3DKMT_DESTROYALLOCATION()
args.hDevcie = 1  # error: no member hDevcie

"""A record stored into a count."""

import d3dkmthk as k

args = k.D3DKMT_DESTROYALLOCATION()
args.AllocationCount = k.LUID()  # error: a record, not an int

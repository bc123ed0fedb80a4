"""A record passed by value where the function wants a pointer (byref() is missing)."""

import d3dkmthk as k

args = k.D3DKMT_DESTROYALLOCATION()
k.D3DKMTDestroyAllocation(args)  # error: a record, not a pointer

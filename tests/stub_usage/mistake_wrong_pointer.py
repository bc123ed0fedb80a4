"""A pointer to one record where the function wants a pointer to another."""

from ctypes import pointer

import d3dkmthk as k

args = k.D3DKMT_DESTROYALLOCATION2()
k.D3DKMTDestroyAllocation(pointer(args))  # error: _Pointer[D3DKMT_DESTROYALLOCATION2]

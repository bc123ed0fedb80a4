"""A call with an argument left out."""

from ctypes import byref

import d3dkmthk as k

event = k.D3DKMT_HANDLE()
k.D3DKMTGetPresentQueueEvent(byref(event))  # error: hAdapter is missing

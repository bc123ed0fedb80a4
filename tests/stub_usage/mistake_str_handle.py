"""A str where a handle (an integer) goes."""

import d3dkmthk as k

args = k.D3DKMT_CLOSEADAPTER()
args.hAdapter = "adapter0"  # error: a str into a D3DKMT_HANDLE

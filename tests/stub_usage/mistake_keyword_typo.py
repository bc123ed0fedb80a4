"""A misspelt constructor keyword."""

import d3dkmthk as k

args = k.D3DKMT_DESTROYALLOCATION(hDevcie=1)  # error: no parameter hDevcie

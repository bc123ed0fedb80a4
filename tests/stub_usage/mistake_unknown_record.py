"""A record the header does not declare."""

import d3dkmthk as k

args = k.D3DKMT_DESTROYALLOCATION3()  # error: no such record

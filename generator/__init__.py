"""d3dkmt-codegen: ctypes bindings for Windows' d3dkmthk.h with MSVC-exact layouts."""

__version__ = "0.1.0"

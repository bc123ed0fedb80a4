@_lazy("D3DKMT_DESTROYALLOCATION", "_D3DKMT_DESTROYALLOCATION")
def _make():
    class D3DKMT_DESTROYALLOCATION(_Structure):
        """The D3DKMT_DESTROYALLOCATION structure describes parameters for releasing
        allocations.

        Attributes:
            hDevice (D3DKMT_HANDLE):
                [in] A D3DKMT_HANDLE data type that represents a kernel-mode
                handle to the device that the resource, allocations, or both
                are associated with.
            hResource (D3DKMT_HANDLE):
                [in] A D3DKMT_HANDLE data type that represents a kernel-mode
                handle to the resource that is associated with the allocations
                when releasing a resource. If a resource handle is specified,
                all of the allocations that are associated with it are
                automatically released.
            phAllocationList (D3DKMT_HANDLE*):
                [in] An array of D3DKMT_HANDLE data types that represent
                kernel-mode handles to the allocations. If any allocation in
                the list is associated with a resource, all of the allocations
                in the list must also be associated with the same resource. If
                the OpenGL ICD sets the handle in the hResource member to a
                non-NULL value, the ICD must set phAllocationList to NULL.
            AllocationCount (UINT):
                [in] The number of allocations in the array that
                phAllocationList specifies. If the OpenGL ICD sets the handle
                in the hResource member to a non-NULL value, the
                AllocationCount member is ignored by the OpenGL runtime.

        Reference: https://learn.microsoft.com/windows-hardware/drivers/ddi/d3dkmthk/ns-d3dkmthk-_d3dkmt_destroyallocation
        Declared in: d3dkmthk.h
        """

        _layout_ = "ms"

        def _broken(self):
            # A D3DKMT_HANDLE data type that represents a kernel-mode handle to the
            # device that the resource, allocations, or both are associated with.
            if self.hDevice == 0:
                yield "hDevice", "must be a non-zero device handle"
            # If the OpenGL ICD sets the handle in the hResource member to a
            # non-NULL value, the ICD must set phAllocationList to NULL.
            if self.hResource != 0 and self.phAllocationList:
                yield "phAllocationList", "must be NULL when hResource is non-zero"
            # An array of D3DKMT_HANDLE data types that represent kernel-mode
            # handles to the allocations.
            if (
                self.hResource == 0 and self.AllocationCount > 0 and (not self.phAllocationList)
            ):
                yield "phAllocationList", "must point to AllocationCount handles when hResource is zero"

    return D3DKMT_DESTROYALLOCATION


_fields("D3DKMT_DESTROYALLOCATION", """
    hDevice D3DKMT_HANDLE
    hResource D3DKMT_HANDLE
    phAllocationList POINTER(D3DKMT_HANDLE)
    AllocationCount c_uint32
""")

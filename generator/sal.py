"""The shape of a SAL annotation's name: the preprocessor keeps SAL out of the
C it passes on (as a side table), the docs reader finds directions in it. Its own
module, so that reading pages does not import the preprocessor (and pcpp)."""

from __future__ import annotations

import re

# A SAL annotation: leading underscore and capital, trailing underscore
# (_In_, _Field_size_bytes_opt_, _IRQL_requires_max_). SDK identifiers that
# survive preprocessing never have this shape; include guards do, but pcpp
# consumes those. Older headers use the SAL 1 names (__in, __out_ecount_opt,
# __drv_maxIRQL, __field_bcount): those are matched by their known prefixes.
SAL_NAME = re.compile(
    r"\b_[A-Z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*_(?![A-Za-z0-9_])"
    r"|\b__(?:in|out|inout)(?:_\w+)?\b"
    r"|\b__(?:deref|field|drv|ecount|bcount|range|success|checkReturn|nullterminated"
    r"|reserved|callback|format_string|control_entrypoint)\w*"
)

#!/usr/bin/env python3
# Prints the reference table of `log_grids_are_correctly_rounded` in
# src/runner/design.rs. Reference points of log grids: lo^(1-i/(n-1)) * hi^(i/(n-1)) computed with
# 80 significant digits (Python's decimal), then rounded once to the nearest f64.
from decimal import Decimal, getcontext
getcontext().prec = 80
grids = [(0.03,0.3,3),(0.01,1,3),(1,100,3),(0.001,1000,7),(1e-6,1,13),(0.5,7.3,11),(2,3,50),(1e-300,1e300,5),(0.1,0.2,257),(3,1e5,101),(0.07,0.7,4),(1e-9,5e-9,9)]
for lo,hi,n in grids:
    L,H=Decimal(lo),Decimal(hi)
    pts=[]
    for i in range(n):
        f=Decimal(i)/Decimal(n-1)
        x=(L.ln()*(1-f)+H.ln()*f).exp()
        pts.append(repr(float(x)))
    print(f'("log:{lo!r}:{hi!r}:{n}", &[{", ".join(pts)}]),')

# Generates the shipped reference files (a one-off; the files are what the configs use).
import math
def pv(x, fwhm, eta):
    h = fwhm/2; l = h/(math.pi*(x*x+h*h)); g = math.sqrt(4*math.log(2)/math.pi)/fwhm*math.exp(-4*math.log(2)*x*x/(fwhm*fwhm))
    return eta*l+(1-eta)*g
def hexd(a,c,h,k,l): return 1/math.sqrt(4/3*(h*h+h*k+k*k)/(a*a)+l*l/(c*c))
def cubd(a,h,k,l): return a/math.sqrt(h*h+k*k+l*l)
def orthd(a,b,c,h,k,l): return 1/math.sqrt(h*h/(a*a)+k*k/(b*b)+l*l/(c*c))
def pattern(path, title, lam, peaks, start, stop, step, bg=40.0):
    # peaks: list of (d, intensity)
    out = [f"# {title}", f"# two-theta (degrees) at {lam} angstrom, intensity (counts, background not removed)", "# 2theta  intensity"]
    n = int(round((stop-start)/step))+1
    tot = sum(i for _,i in peaks)
    centers = []
    for d,i in peaks:
        s = lam/(2*d)
        if s < 1: centers.append((2*math.degrees(math.asin(s)), i))
    for k in range(n):
        x = start+k*step; y = bg*(1-0.2*(x-start)/(stop-start))
        for c,i in centers:
            f = 0.02+0.05*math.tan(math.radians(c/2))
            if abs(x-c) < 25*f: y += 2e4*i/tot*pv(x-c, f, 0.4)
        out.append(f"{x:.4f} {y:.3f}")
    open(path,"w").write("\n".join(out)+"\n")
def edge(path, title, e0, width, wlo, wlh, wlw, pre, preh, start, stop, step):
    out = ["# Athena project export: normalised mu(E)", f"# {title}", "# Element: see config   Edge: K", "# ------------------------", "#  energy      norm      nder"]
    e = start
    while e <= stop+1e-9:
        mu = 0.5+math.atan(2*(e-e0)/width)/math.pi + wlh*math.exp(-0.5*((e-e0-wlo)/wlw)**2) + preh*math.exp(-0.5*((e-pre)/1.0)**2)
        # a little EXAFS-like wiggle far above the edge, as a real spectrum has
        if e > e0+40: mu += 0.03*math.sin((e-e0)/9.0)*math.exp(-(e-e0-40)/120)
        out.append(f"  {e:.2f}  {mu:.6f}  0.000")
        e += step
    open(path,"w").write("\n".join(out)+"\n")

nmc = [((0,0,3),100),((1,0,1),40),((0,0,6),5),((0,1,2),8),((1,0,4),80),((0,1,5),10),((1,0,7),8),((0,1,8),12),((1,1,0),12),((1,1,3),10),((0,2,1),4),((1,1,6),5)]
# NMC811 measured at an earlier beamtime at 17 keV (0.7293 A), pristine electrode
pattern("nmc811-pristine-17kev.xy", "NMC811 pristine electrode, earlier beamtime at 17 keV", 0.7293, [(hexd(2.872,14.20,*hkl),i) for hkl,i in nmc], 6.5, 40.0, 0.004)
edge("ni-k-nmc-pristine.nor", "NMC811 pristine (Ni2+/Ni3+), Ni K", 8344.5, 2.0, 7.0, 0.75, 4.0, 8333.5, 0.02, 8200, 8600, 0.25)
edge("ni-k-nmc-charged.nor", "NMC811 charged to 4.3 V (Ni4+), Ni K", 8347.5, 2.2, 6.0, 0.55, 4.5, 8334.2, 0.03, 8200, 8600, 0.25)
edge("mn-k-limn2o4.nor", "LiMn2O4 (Mn3.5+), Mn K", 6552.0, 2.0, 8.0, 0.45, 4.0, 6540.5, 0.04, 6400, 6800, 0.25)
edge("mn-k-lambda-mno2.nor", "lambda-MnO2 (Mn4+), Mn K", 6555.0, 2.2, 7.0, 0.40, 4.5, 6541.2, 0.06, 6400, 6800, 0.25)
# LFP references at 17 keV for the energy rehearsal, from the built-in olivine lists (Pnma)
lfp = [((2,0,0),38),((1,0,1),55),((2,1,0),28),((0,1,1),18),((1,1,1),72),((2,0,1),48),((0,2,0),42),((2,1,1),88),((3,0,1),22),((3,1,1),100),((1,2,1),45),((4,1,0),24),((1,0,2),12),((2,2,1),16),((4,0,1),14),((1,1,2),10),((3,2,1),18),((4,2,0),9),((1,3,1),26),((2,2,2),20),((0,3,1),11),((6,1,0),8),((4,0,2),9),((3,3,1),12),((2,4,0),7),((0,0,2),8),((4,2,2),6),((5,1,2),5)]
fp = {(2,0,0):30,(0,2,0):55,(2,1,1):100,(3,1,1):80,(1,0,1):62}
pattern("lifepo4-17kev.xy", "LiFePO4 (pristine electrode) at 17 keV", 0.7293, [(orthd(10.33,6.01,4.69,*hkl),i) for hkl,i in lfp], 6.5, 40.0, 0.004)
pattern("fepo4-17kev.xy", "FePO4 (charged electrode) at 17 keV", 0.7293, [(orthd(9.82,5.79,4.78,*hkl),fp.get(hkl,i)) for hkl,i in lfp], 6.5, 40.0, 0.004)

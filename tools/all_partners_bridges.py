"""The demo-model check of `global-weights --all` (docs/global-weights.md): for each bridge label of
the demo corpus, the features selective for it (active in >= 80% of its prompts, <= 10% of the
others, from the statistics pass's /stats/labels), and where the lowest-layer ones rank the
same-label features of later layers among their downstream |TWERA| partners (/all).
Reads the run folder /tmp/gw-demo through h5dump (no h5py needed):
    circuits global-weights /tmp/gw-demo --all      # job.json of jobs/demo.yaml in /tmp/gw-demo
    python3 tools/all_partners_bridges.py
"""
import subprocess, re, glob, collections
def dump(f, path, strings=False):
    out = subprocess.run(["h5dump","-y","-w","0","-d",path,f],capture_output=True,text=True).stdout
    body = out[out.index("DATA {")+6: out.rindex("}")]
    if strings: return re.findall(r'"((?:[^"\\]|\\.)*)"', body)
    return [float(x) for x in re.findall(r'-?\d+(?:\.\d+)?(?:e[-+]?\d+)?', body)]
A = glob.glob("/tmp/gw-demo/global-stats-*/aggregate.h5")[0]
labels = dump(A,"/stats/labels/labels",True); prompts=[int(x) for x in dump(A,"/stats/labels/prompts")]
li=[int(x) for x in dump(A,"/stats/labels/label_index")]; feat=[int(x) for x in dump(A,"/stats/labels/feature")]
ap=[int(x) for x in dump(A,"/stats/labels/active_prompts")]
dT=512
total=sum(prompts)
frac=collections.defaultdict(dict); anyp=collections.Counter()
for k,l in enumerate(li):
    f=(feat[2*k],feat[2*k+1]); frac[f][l]=ap[k]/prompts[l]; anyp[f]+=ap[k]
sel=collections.defaultdict(list)
for f,d in frac.items():
    for l,x in d.items():
        outside=(anyp[f]-x*prompts[l])/(total-prompts[l])
        if x>=0.8 and outside<=0.1: sel[l].append(f)
G="/tmp/gw-demo/global_weights.h5"
def lists(direction, ranking):
    p=[int(x) for x in dump(G,f"/all/{direction}/{ranking}/partner")]; n=[int(x) for x in dump(G,f"/all/{direction}/{ranking}/n_partners")]
    t=dump(G,f"/all/{direction}/{ranking}/twera")
    return p,n,t
dp,dn,dt=lists("downstream","twera")
k=32
hits=0; bridges=0; labs_with=0; examples=[]
for l,fs in sel.items():
    fs=sorted(fs); layers=sorted(set(f[0] for f in fs))
    if len(layers)<2: continue
    low=[f for f in fs if f[0]==layers[0]]; high=set(f for f in fs if f[0]>layers[0])
    got=False
    for b in low:
        row=b[0]*dT+b[1]; bridges+=1
        part=[(dp[2*(row*k+i)],dp[2*(row*k+i)+1]) for i in range(dn[row])]
        top=part[:10]
        inter=[p for p in top if p in high]
        if inter: hits+=1; got=True
        if len(examples)<6 and inter: examples.append((labels[l],b,inter[:3],[ (p, round(dt[row*k+part.index(p)],4)) for p in inter[:3]], part.index(inter[0])))
    labs_with+=got
print("labels",len(labels),"labels with selective features in >=2 layers",sum(1 for l,fs in sel.items() if len(set(f[0] for f in fs))>=2))
print("bridge (lowest-layer selective) features",bridges,"with a same-label later-layer feature among their top-10 downstream |TWERA|:",hits,"labels:",labs_with)
for e in examples: print(e)
ranks=collections.Counter()
for l,fs in sel.items():
    fs=sorted(fs); layers=sorted(set(f[0] for f in fs))
    if len(layers)<2: continue
    low=[f for f in fs if f[0]==layers[0]]; high=set(f for f in fs if f[0]>layers[0])
    for b in low:
        row=b[0]*dT+b[1]
        part=[(dp[2*(row*k+i)],dp[2*(row*k+i)+1]) for i in range(dn[row])]
        r=[i for i,p in enumerate(part) if p in high]
        ranks[r[0] if r else -1]+=1
print("rank of the first same-label later-layer partner:",sorted(ranks.items()))
print("layers of lowest selective:",collections.Counter(min(f[0] for f in fs) for fs in sel.values() if len(set(f[0] for f in fs))>=2))

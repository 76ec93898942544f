package launch

import "strings"

var (
	dockerGlobalValue = []string{"-H", "--host", "-c", "--context", "--config", "-l", "--log-level", "--tlscacert",
		"--tlscert", "--tlskey", "--url", "--connection", "--root", "--runroot", "--storage-driver",
		"--cgroup-manager", "-n", "--namespace", "-a", "--address"}
	dockerShortValue = map[byte]string{'a': "attach", 'c': "cpu-shares", 'e': "env", 'h': "hostname",
		'l': "label", 'm': "memory", 'p': "publish", 'u': "user", 'v': "volume", 'w': "workdir"}
	dockerLongValue = map[string]bool{}
)

func init() {
	for _, o := range strings.Fields(`add-host annotation attach blkio-weight blkio-weight-device cap-add
		cap-drop cgroup-parent cgroupns cidfile cpu-period cpu-quota cpu-rt-period cpu-rt-runtime
		cpu-shares cpus cpuset-cpus cpuset-mems detach-keys device device-cgroup-rule device-read-bps
		device-read-iops device-write-bps device-write-iops dns dns-option dns-opt dns-search domainname
		entrypoint env env-file expose gpus group-add health-cmd health-interval health-retries
		health-start-period health-start-interval health-timeout hostname ip ip6 ipc isolation
		kernel-memory label label-file link link-local-ip log-driver log-opt mac-address memory
		memory-reservation memory-swap memory-swappiness mount name network net network-alias net-alias
		oom-score-adj pid pids-limit platform publish pull restart runtime security-opt shm-size
		stop-signal stop-timeout storage-opt sysctl tmpfs ulimit user userns uts volume volume-driver
		volumes-from workdir arch os variant secret pod`) {
		dockerLongValue[o] = true
	}
}

// docker handles docker, podman and nerdctl: only "run" (or "container run") starts
// something.
func (a *analyzer) docker(args []*word) {
	i := 0
	for ; i < len(args) && strings.HasPrefix(args[i].text, "-"); i++ {
		for _, o := range dockerGlobalValue {
			if args[i].text == o {
				i++
				break
			}
		}
	}
	if i < len(args) && args[i].text == "container" {
		i++
	}
	if i < len(args) && args[i].text == "run" {
		a.dockerRun(args[i+1:])
	}
}

func (a *analyzer) dockerRun(args []*word) {
	var (
		image *word
		rest  []*word
	)
opts:
	for i := 0; i < len(args); i++ {
		w := args[i]
		t := w.text
		switch {
		case t == "--":
			if i+1 < len(args) {
				image, rest = args[i+1], args[i+2:]
			}
			break opts
		case !strings.HasPrefix(t, "-") || t == "-":
			image, rest = w, args[i+1:]
			break opts
		case strings.HasPrefix(t, "--"):
			name, _, hasEq := strings.Cut(t[2:], "=")
			switch {
			case hasEq:
				a.dockerOpt(name, w, len(name)+3)
			case dockerLongValue[name]:
				if i+1 < len(args) {
					a.dockerOpt(name, args[i+1], 0)
					i++
				}
			default:
				a.dockerOpt(name, w, len(t))
			}
		default:
			for k := 1; k < len(t); k++ {
				long, ok := dockerShortValue[t[k]]
				if !ok {
					continue
				}
				if k+1 < len(t) {
					a.dockerOpt(long, w, k+1)
				} else if i+1 < len(args) {
					a.dockerOpt(long, args[i+1], 0)
					i++
				}
				break
			}
		}
	}
	if image == nil {
		return
	}
	if !imagePinned(image.text) {
		a.addWord(image, UnpinnedPackage, Warn, whyImage)
	}
	for _, w := range rest { // the container's own command: its paths are inside the container
		a.suppressWord(w, 0, len(w.text), SensitivePath)
	}
}

// dockerOpt judges one docker run option; its value is w.text[at:] ("" for a flag).
func (a *analyzer) dockerOpt(name string, w *word, at int) {
	v := w.text[at:]
	value := func(sev Severity, why string) { a.addPart(w, at, len(w.text), ContainerHost, sev, why) }
	switch name {
	case "privileged":
		if v == "" || strings.EqualFold(v, "true") {
			a.addWord(w, ContainerHost, Danger, whyPrivileged)
		}
	case "use-api-socket":
		if v == "" || strings.EqualFold(v, "true") {
			a.addWord(w, ContainerHost, Danger, whySocket)
		}
	case "volume":
		src, dst := splitVolume(v)
		if dst < 0 {
			a.suppressWord(w, at, len(w.text), SensitivePath) // an anonymous volume: a container path
			return
		}
		a.suppressWord(w, at+dst, len(w.text), SensitivePath)
		a.mountSource(src, value)
	case "mount":
		off := 0
		var src string
		for _, kv := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(kv, "=")
			switch strings.ToLower(k) {
			case "source", "src":
				src = val
			case "target", "dst", "destination":
				a.suppressWord(w, at+off+len(k)+1, at+off+len(kv), SensitivePath)
			}
			off += len(kv) + 1
		}
		a.mountSource(src, value)
	case "network", "net":
		if v == "host" {
			value(Warn, whyNetHost)
		}
	case "pid":
		if v == "host" {
			value(Danger, whyPidHost)
		}
	case "ipc":
		if v == "host" {
			value(Warn, whyIpcHost)
		}
	case "userns":
		if v == "host" {
			value(Warn, whyUsernsHost)
		}
	case "cap-add":
		switch strings.TrimPrefix(strings.ToUpper(v), "CAP_") {
		case "ALL", "SYS_ADMIN", "SYS_MODULE", "SYS_RAWIO", "DAC_READ_SEARCH":
			value(Danger, whyCapDanger)
		case "SYS_PTRACE", "NET_ADMIN", "BPF":
			value(Warn, whyCapWarn)
		}
	case "security-opt":
		if lv := strings.ToLower(v); strings.Contains(lv, "unconfined") || lv == "label=disable" || lv == "label:disable" {
			value(Danger, whySecurityOpt)
		}
	}
}

// splitVolume splits a -v value "SRC:DST[:opts]" into SRC and the offset of DST, -1
// when there is no SRC. A drive letter (C:\data:/data) is part of SRC.
func splitVolume(v string) (src string, dst int) {
	from := 0
	if driveRE.MatchString(v) {
		from = 2
	}
	i := strings.IndexByte(v[from:], ':')
	if i < 0 {
		return "", -1
	}
	return v[:from+i], from + i + 1
}

// mountSource judges the host side of a mount.
func (a *analyzer) mountSource(src string, value func(Severity, string)) {
	s := strings.ToLower(src)
	switch {
	case s == "/" || s == `\` || s == "//" || len(s) <= 3 && driveRE.MatchString(s+`\`) && strings.Trim(s[2:], `\/`) == "":
		value(Danger, whyRootMount)
	case strings.Contains(s, "docker.sock") || strings.Contains(s, "docker_engine") || strings.Contains(s, "podman.sock") || strings.Contains(s, "containerd.sock"):
		value(Danger, whySocket)
	}
}

// imagePinned reports whether an image reference has a digest or a version tag.
func imagePinned(ref string) bool {
	if strings.Contains(ref, "@sha256:") || strings.Contains(ref, "@sha512:") || strings.ContainsAny(ref, "$%{") {
		return true
	}
	name := ref[strings.LastIndexByte(ref, '/')+1:]
	i := strings.LastIndexByte(name, ':')
	if i < 0 {
		return false
	}
	switch strings.ToLower(name[i+1:]) {
	case "", "latest", "main", "master", "edge", "nightly", "stable", "dev", "develop", "head", "canary", "rolling":
		return false
	}
	return true
}

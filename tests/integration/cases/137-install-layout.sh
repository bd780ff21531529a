# needs: ddbgate
# timeout: 60
#
# `make install` puts every file where the build's configure said, the
# installed unit names the installed binary and configuration and passes
# systemd's own checks, and `make uninstall` takes every file back.
# Client:   `make -C BUILD install DESTDIR=$CASE_TMP/root` (BUILD = the
#           directory of the ddbgate under test; prefix, sysconfdir, sbindir,
#           mandir, docdir and systemdsystemunitdir read from its Makefile);
#           the installed `ddbgate version` and `ddbgate check -c`; the first
#           start of docs/deployment.md (`ddbgate ca init -c FILE --dir`, a
#           static certificate, two policies) for a copy of the installed
#           configuration; `groff -man -Tutf8 -ww -z` on the man pages (when
#           groff is installed); `systemd-analyze verify --root=R --man=no`
#           and `systemd-analyze security --offline=yes --root=R` on the unit,
#           R = the distribution's units (/lib/systemd/system), /bin/kill and
#           the installed tree; `make uninstall DESTDIR=$CASE_TMP/root`.
# Config:   the installed SYSCONFDIR/ddbgate/ddbgate.yaml (etc/ddbgate.yaml)
#           as installed; then a copy with /etc/ddbgate/, /var/lib/ddbgate
#           and /var/log/ddbgate/ rebased under $CASE_TMP/first-start.
# Upstream: none.
# Expect:   SBINDIR/ddbgate mode 0755, the same bytes as the binary under
#           test, `version` exit 0 with the same first line;
#           SYSCONFDIR/ddbgate/ddbgate.yaml = etc/ddbgate.yaml;
#           UNITDIR/ddbgate.service with UNITDIR = `pkg-config
#           --variable=systemdsystemunitdir systemd` (when pkg-config knows
#           it), no @...@ left, ExecStartPre=SBINDIR/ddbgate check -c
#           SYSCONFDIR/ddbgate/ddbgate.yaml, ExecStart=SBINDIR/ddbgate run -c
#           (the same file), ExecReload=/bin/kill -HUP $MAINPID, the
#           Documentation= file present; MANDIR/man8/ddbgate.8 and
#           man5/ddbgate.yaml.5 = docs/, rendered by groff with nothing on
#           stderr; DOCDIR/README.md and every docs/*.md of the source tree,
#           unchanged; no file outside PREFIX, SYSCONFDIR and UNITDIR.
#           `ddbgate check` on the installed file: exit 0, or exit 1 only for
#           a file it names under /etc/ddbgate or /var/lib/ddbgate that does
#           not exist; after the first-start steps on the rebased copy: exit
#           0.  verify: exit 0 and no output at all (it exits 0 on "Unknown
#           key" warnings).  security: overall exposure level at most 2.0.
#           After uninstall: no file left under $CASE_TMP/root, only
#           directories.  Skips when BUILD has no Makefile or is not up to
#           date (`make -q all`: install would rebuild the binary under
#           test); without systemd-analyze it skips after the uninstall.
BUILD_DIR=$(dirname "$DDBGATE")
[ -f "$BUILD_DIR/Makefile" ] || skip "no Makefile in $BUILD_DIR: not an autotools build directory"
command -v make >/dev/null || skip "needs make"
# make install must not rebuild (and so replace) the binary under test.
make -q -C "$BUILD_DIR" all >/dev/null 2>&1 ||
	skip "$BUILD_DIR is not up to date with its sources (make -q all): run make there first"

root=$CASE_TMP/root
vroot=$CASE_TMP/verify-root

# The build's installation directories, fully expanded by make itself.
cat >"$CASE_TMP/vars.mk" <<'MK'
ddbgate-it-vars:
	@echo 'prefix=$(prefix)'
	@echo 'sysconfdir=$(sysconfdir)'
	@echo 'sbindir=$(sbindir)'
	@echo 'mandir=$(mandir)'
	@echo 'docdir=$(docdir)'
	@echo 'unitdir=$(systemdsystemunitdir)'
	@echo 'srcdir=$(abs_top_srcdir)'
MK
make -s --no-print-directory -C "$BUILD_DIR" -f Makefile -f "$CASE_TMP/vars.mk" ddbgate-it-vars >"$CASE_TMP/vars" 2>"$CASE_TMP/vars.err" ||
	fail "cannot read the installation directories from $BUILD_DIR/Makefile: $(cat "$CASE_TMP/vars.err")"
cat "$CASE_TMP/vars"
var() { sed -n "s/^$1=//p" "$CASE_TMP/vars"; }
prefix=$(var prefix) sysconfdir=$(var sysconfdir) sbindir=$(var sbindir)
mandir=$(var mandir) docdir=$(var docdir) unitdir=$(var unitdir) srcdir=$(var srcdir)
for v in prefix sysconfdir sbindir mandir docdir unitdir srcdir; do
	case ${!v} in /*) ;; *) fail "$v is '${!v}', not an absolute path" ;; esac
done

step "make install DESTDIR=$root"
make -s -C "$BUILD_DIR" install DESTDIR="$root" >"$CASE_TMP/install.log" 2>&1 ||
	{ tail -n 30 "$CASE_TMP/install.log"; fail "make install failed"; }
(cd "$root" && find . ! -type d | sed 's/^\.//' | sort) >"$CASE_TMP/installed"
sed 's/^/  /' "$CASE_TMP/installed"

step "nothing outside $prefix, $sysconfdir and $unitdir"
outside=$(awk -v a="$prefix/" -v b="$sysconfdir/" -v c="$unitdir/" \
	'index($0, a) != 1 && index($0, b) != 1 && index($0, c) != 1' "$CASE_TMP/installed")
[ -z "$outside" ] || fail "installed outside prefix, sysconfdir and the unit directory: $(echo "$outside" | tr '\n' ' ')"

step "the binary"
bin=$root$sbindir/ddbgate
if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then fail "no executable $sbindir/ddbgate"; fi
mode=$(stat -c %a "$bin")
[ "$mode" = 755 ] || fail "$sbindir/ddbgate has mode $mode, expected 755"
cmp -s "$bin" "$DDBGATE" || fail "$sbindir/ddbgate is not the binary under test ($DDBGATE)"
out=$(timeout 10 "$bin" version 2>&1) || fail "the installed ddbgate version exited $?: $out"
want=$(timeout 10 "$DDBGATE" version 2>&1 | head -n 1)
echo "installed: $(echo "$out" | head -n 1)"
[ "$(echo "$out" | head -n 1)" = "$want" ] || fail "the installed version says '$(echo "$out" | head -n 1)', the build '$want'"

step "the configuration"
conf=$root$sysconfdir/ddbgate/ddbgate.yaml
[ -f "$conf" ] || fail "no $sysconfdir/ddbgate/ddbgate.yaml"
cmp -s "$conf" "$srcdir/etc/ddbgate.yaml" || fail "$sysconfdir/ddbgate/ddbgate.yaml differs from etc/ddbgate.yaml"
timeout 10 "$bin" check -c "$conf" >"$CASE_TMP/check-installed.out" 2>&1
rc=$?
echo "check -c (as installed): exit $rc: $(grep -v '^ \|^#\|^$' "$CASE_TMP/check-installed.out" | head -n 3)"
case $rc in
0) ;;
1) grep -F "$conf: " "$CASE_TMP/check-installed.out" | cut -c $((${#conf} + 3))- |
	grep -Eq '^[a-z_.]+(\[[0-9]+\])?[a-z_.]*: /(etc/ddbgate|var/lib/ddbgate)/[^:]*: (cannot open: )?No such file or directory$' ||
	fail "ddbgate check on the installed configuration failed for another reason than a missing file it names: $(head -n 3 "$CASE_TMP/check-installed.out")" ;;
*) fail "ddbgate check on the installed configuration exited $rc: $(head -n 3 "$CASE_TMP/check-installed.out")" ;;
esac

# docs/deployment.md "First start" on a copy whose own directories live
# under $fs: a gateway CA (ca init), the static certificate, the policies.
fs=$CASE_TMP/first-start
mkdir -p "$fs/etc/ddbgate/tls" "$fs/etc/ddbgate/policies" "$fs/var/lib/ddbgate" "$fs/var/log/ddbgate"
sed -e "s#/etc/ddbgate/#$fs/etc/ddbgate/#g" -e "s#/var/lib/ddbgate#$fs/var/lib/ddbgate#g" \
	-e "s#/var/log/ddbgate/#$fs/var/log/ddbgate/#g" "$conf" >"$fs/ddbgate.yaml"
echo "rebased lines:"
diff "$conf" "$fs/ddbgate.yaml" | grep '^>' | sed 's/^/  /'
timeout 10 "$bin" ca init -c "$fs/ddbgate.yaml" --dir "$fs/var/lib/ddbgate" >"$CASE_TMP/ca-init.out" 2>&1 ||
	fail "ddbgate ca init failed: $(head -n 3 "$CASE_TMP/ca-init.out")"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-keyout "$fs/etc/ddbgate/tls/dynamodb.key" -out "$fs/etc/ddbgate/tls/dynamodb.pem" \
	-subj /CN=dynamodb.us-east-1.amazonaws.com -addext subjectAltName=DNS:dynamodb.us-east-1.amazonaws.com \
	>"$CASE_TMP/openssl.err" 2>&1 || fail "openssl req failed: $(cat "$CASE_TMP/openssl.err")"
for p in dynamodb streams; do
	printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"dynamodb:*","Resource":"*"}]}\n' \
		>"$fs/etc/ddbgate/policies/$p.json"
done
timeout 10 "$bin" check -c "$fs/ddbgate.yaml" >"$CASE_TMP/check.out" 2>&1 ||
	{ head -n 5 "$CASE_TMP/check.out"; fail "ddbgate check on the installed configuration after the first-start steps exited $?"; }
echo "check -c (after the first-start steps): exit 0"

step "the unit"
unit=$root$unitdir/ddbgate.service
[ -f "$unit" ] || fail "no $unitdir/ddbgate.service"
if command -v pkg-config >/dev/null && pcdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null) && [ -n "$pcdir" ]; then
	echo "pkg-config systemdsystemunitdir: $pcdir"
	[ "$unitdir" = "$pcdir" ] || fail "the unit went to $unitdir, pkg-config says $pcdir"
fi
grep -n '@[A-Za-z_]*@' "$unit" && fail "the installed unit has unsubstituted @...@"
grep -E '^(Exec|Documentation)' "$unit" | sed 's/^/  /'
# shellcheck disable=SC2016 # $MAINPID: systemd's, literally
for line in "ExecStartPre=$sbindir/ddbgate check -c $sysconfdir/ddbgate/ddbgate.yaml" \
	"ExecStart=$sbindir/ddbgate run -c $sysconfdir/ddbgate/ddbgate.yaml" \
	'ExecReload=/bin/kill -HUP $MAINPID'; do
	if [ "$(grep -c "^${line%%=*}=" "$unit")" != 1 ] || ! grep -qxF -- "$line" "$unit"; then
		fail "the unit lacks the line '$line' (or has more than one ${line%%=*}=)"
	fi
done
doc=$(sed -n 's|^Documentation=.*file://\([^ ]*\).*|\1|p' "$unit")
if [ -z "$doc" ] || [ ! -f "$root$doc" ]; then fail "the unit's Documentation= file '$doc' is not installed"; fi

step "man pages"
for m in man8/ddbgate.8 man5/ddbgate.yaml.5; do
	f=$root$mandir/$m
	[ -f "$f" ] || fail "no $mandir/$m"
	cmp -s "$f" "$srcdir/docs/$(basename "$m")" || fail "$mandir/$m differs from docs/$(basename "$m")"
	if command -v groff >/dev/null; then
		groff -man -Tutf8 -ww -z "$f" >"$CASE_TMP/groff.out" 2>&1 ||
			fail "groff failed on $m: $(head -n 5 "$CASE_TMP/groff.out")"
		[ -s "$CASE_TMP/groff.out" ] && { cat "$CASE_TMP/groff.out"; fail "groff -ww warns on $m"; }
		echo "$mandir/$m: renders without warnings"
	else
		echo "$mandir/$m: installed (groff not installed: not rendered)"
	fi
done

step "docs"
n=0
for d in "$srcdir/README.md" "$srcdir"/docs/*.md; do
	f=$root$docdir/$(basename "$d")
	[ -f "$f" ] || fail "$(basename "$d") is not installed in $docdir"
	cmp -s "$f" "$d" || fail "$docdir/$(basename "$d") differs from the source"
	n=$((n + 1))
done
echo "$docdir: README.md and every docs/*.md ($n files)"

# The verify root: the distribution's units first, then the installed tree
# (ours wins over any ddbgate.service there), and /bin/kill for ExecReload.
have_sa=0
if command -v systemd-analyze >/dev/null && [ -d /lib/systemd/system ]; then
	have_sa=1
	mkdir -p "$vroot/lib/systemd/system" "$vroot/bin"
	cp -a /lib/systemd/system/. "$vroot/lib/systemd/system/"
	cp -a "$root/." "$vroot/"
	cp /bin/kill "$vroot/bin/kill"
fi

step "make uninstall DESTDIR=$root"
make -s -C "$BUILD_DIR" uninstall DESTDIR="$root" >"$CASE_TMP/uninstall.log" 2>&1 ||
	{ tail -n 30 "$CASE_TMP/uninstall.log"; fail "make uninstall failed"; }
left=$(cd "$root" && find . ! -type d | sed 's/^\.//')
[ -z "$left" ] || fail "left after make uninstall: $(echo "$left" | tr '\n' ' ')"
echo "no file left, $(find "$root" -type d | wc -l) directories"

[ "$have_sa" = 1 ] || skip "layout, check, man pages, docs and uninstall ok; no systemd-analyze (or /lib/systemd/system) for the unit checks"

step "systemd-analyze verify"
systemd-analyze --version | head -n 1
systemd-analyze verify --root="$vroot" --man=no "$unitdir/ddbgate.service" >"$CASE_TMP/verify.out" 2>&1
rc=$?
cat "$CASE_TMP/verify.out"
[ "$rc" = 0 ] || fail "systemd-analyze verify exited $rc: $(head -n 3 "$CASE_TMP/verify.out")"
[ -s "$CASE_TMP/verify.out" ] && fail "systemd-analyze verify exited 0 but said: $(head -n 3 "$CASE_TMP/verify.out")"
echo "verify: exit 0, no output"

step "systemd-analyze security"
systemd-analyze security --offline=yes --root="$vroot" "$unitdir/ddbgate.service" >"$CASE_TMP/security.out" 2>&1 ||
	{ cat "$CASE_TMP/security.out"; fail "systemd-analyze security exited $?"; }
grep -v '^✓' "$CASE_TMP/security.out"
level=$(sed -n 's/^→ Overall exposure level for ddbgate.service: \([0-9.]*\) .*/\1/p' "$CASE_TMP/security.out")
[ -n "$level" ] || fail "no overall exposure level in the output of systemd-analyze security"
awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }' || fail "overall exposure level $level, above 2.0"
echo "overall exposure level $level (at most 2.0)"

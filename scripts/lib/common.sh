# Shared by Vigil's scripts: locating the build, installing what is missing, JVM flags.
# shellcheck shell=bash
VIGIL_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VIGIL_VERSION="0.1.0-SNAPSHOT"

# Hazelcast asks for these (its docs, "Running in modular Java"); harmless for the agent.
VIGIL_JVM_OPENS="--add-modules java.se --add-exports java.base/jdk.internal.ref=ALL-UNNAMED \
--add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED \
--add-opens java.management/sun.management=ALL-UNNAMED \
--add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED"

# Debian packages Vigil's programs and tests use. libvirt-daemon: its libvirt_iohelper writes and reads the saved
# VM states of planned moves (installed without recommends, which would pull every QEMU system emulator). libnbd-bin
# (nbdinfo, nbdcopy) and fio: real NBD clients the disk server is tested against. gcc, libibverbs-dev and
# librdmacm-dev: rdma-native's C shim over libibverbs is compiled by the Maven build (libibverbs1 and librdmacm1 at run
# time; without an RDMA device the tcp transport is used). libvirt-daemon-system: libvirtd and virtlogd as users run
# them (qemu:///system, QEMU as libvirt-qemu under the DAC driver), its user, group, qemu.conf and state folders.
VIGIL_PACKAGES=(libvirt0 libvirt-clients libvirt-daemon-driver-qemu libvirt-daemon libvirt-daemon-system qemu-system-x86 qemu-utils procps libnbd-bin fio
  iproute2 gcc libibverbs-dev librdmacm-dev)
# Only the tests need these: the dashboard's browser test drives Debian's headless Chromium with its chromedriver.
VIGIL_TEST_PACKAGES=(chromium chromium-driver)

vigil_log() { printf 'vigil: %s\n' "$*" >&2; }

vigil_ensure_packages() {
  local missing=() p
  for p in "${VIGIL_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
      vigil_log "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
      return 1
    fi
    vigil_log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # libvirt's QEMU driver looks these up even when configured to run QEMU as root.
  if ! getent group libvirt-qemu >/dev/null; then
    [[ $(id -u) -eq 0 ]] && groupadd --system libvirt-qemu || { vigil_log "group libvirt-qemu missing"; return 1; }
  fi
  if ! getent passwd libvirt-qemu >/dev/null; then
    [[ $(id -u) -eq 0 ]] && useradd --system -g libvirt-qemu -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu \
      || { vigil_log "user libvirt-qemu missing"; return 1; }
  fi
}

vigil_ensure_java() {
  command -v java >/dev/null || { vigil_log "Java 17 is required (apt-get install openjdk-17-jdk-headless)"; return 1; }
  command -v mvn >/dev/null || { vigil_log "Maven is required (apt-get install maven)"; return 1; }
}

# Builds the jars unless they are there already (VIGIL_REBUILD=1 forces a build).
vigil_ensure_built() {
  local agent="$VIGIL_HOME/host-agent/target/vigil-host-agent-$VIGIL_VERSION.jar"
  local controller="$VIGIL_HOME/controller/target/vigil-controller-$VIGIL_VERSION.jar"
  local keeper="$VIGIL_HOME/rdma-native/target/vigil-rdma-native-$VIGIL_VERSION.jar"
  if [[ ${VIGIL_REBUILD:-0} == 1 || ! -f $agent || ! -f $controller || ! -f $keeper ]]; then
    vigil_ensure_java
    vigil_log "building (mvn install -DskipTests)"
    (cd "$VIGIL_HOME" && mvn -q -B install -DskipTests) || { vigil_log "build failed"; return 1; }
  fi
}

# Prints the classpath of one module's program: its jar and its runtime dependencies.
vigil_classpath() {
  local module=$1
  echo "$VIGIL_HOME/$module/target/vigil-$module-$VIGIL_VERSION.jar:$VIGIL_HOME/$module/target/lib/*"
}

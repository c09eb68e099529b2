# Set-up shared by the project's commands (sourced, not run): creates or reuses the virtual
# environment, installs the project with its test and docs extras when setup.cfg changed, and installs
# the Debian packages it needs (a C++ compiler for Brian2's standalone mode, Fashion-MNIST)
# when run as root; otherwise it prints the command that installs them.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="${CORINFO_VENV:-$root/.venv}"

apt_packages=()
command -v g++ >/dev/null 2>&1 || apt_packages+=(g++)
command -v make >/dev/null 2>&1 || apt_packages+=(make)
[ -d /usr/share/datasets/fashion-mnist ] || apt_packages+=(dataset-fashion-mnist)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || apt_packages+=(python3-venv)
if [ ${#apt_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${apt_packages[*]} with apt-get" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}") >/dev/null \
      || echo "warning: apt-get could not install ${apt_packages[*]}" >&2
  else
    echo "note: missing ${apt_packages[*]}; install with: sudo apt-get install ${apt_packages[*]}" >&2
  fi
fi

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" || return 1
fi
stamp="$venv/.corinfo-setup"
want=$(cat "$root/setup.cfg" "$root/pyproject.toml" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing corinfo_sim and its dependencies into $venv" >&2
  # (this machine's pip configuration warns about absent local indexes: not our concern)
  "$venv/bin/python" -m pip install -q -e "$root[test,docs]" 2> >(grep -v "^WARNING: Location" >&2) || return 1
  echo "$want" > "$stamp"
fi
export PATH="$venv/bin:$PATH"
# Brian2 compiles with the system compiler; one thread is the fast setting for this network
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

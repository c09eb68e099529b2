"""The documentation site builds with the README's one command, warnings as errors: a broken
cross-reference, a malformed docstring or a public name without a docstring or an entry in the API
reference fails it."""
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_the_documentation_site_builds_without_a_warning(tmp_path):
    out = tmp_path / "html"
    proc = subprocess.run(["bash", "scripts/docs.sh", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=1200)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert "bash scripts/docs.sh" in (ROOT / "README.md").read_text()
    for page in ("index", "python", "model", "variants/antisparse", "variants/conductance",
                 "variants/conductance_spiking", "cli", "sweeps",
                 "traces", "figures", "speed", "troubleshooting", "api", "examples",
                 "generated/corinfo_sim.Network", "generated/corinfo_sim.train"):
        assert (out / f"{page}.html").is_file(), page
    network = (out / "generated" / "corinfo_sim.Network.html").read_text()
    assert 'id="corinfo_sim.Network.present"' in network
    symbols = (out / "variants" / "antisparse.html").read_text()
    assert "somatic potential (pyr_k)" in symbols and "--g-leak" in symbols

"""Apache Kafka's broker jars from Maven Central, fetched once per machine into a cache.

No distribution tarball: a small pom (written here) lists `org.apache.kafka:kafka_2.13` and an
SLF4J binding, and `mvn dependency:copy-dependencies` copies them with their dependencies. The
published POMs carry no binding; Kafka's own distribution logs through log4j2 behind the
SLF4J 1.7 API its POMs pull in, so the binding is `log4j-slf4j-impl` with `log4j-core`.

The cache lives outside any clone (`~/.cache/warmhandoff/kafka`, or `$XDG_CACHE_HOME/...`, or
`WARMHANDOFF_KAFKA_CACHE`), one directory per Kafka version and pom, so a machine downloads
once. Concurrent first downloads are safe: one process holds a lock file while `mvn` copies
into a temporary directory, which is renamed into place only when complete.

What cannot be had is one `KafkaUnavailableError` line: no Java 17+, no Maven, or Maven
Central unreachable.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import structlog

from warmhandoff.streams.contract.errors import KafkaUnavailableError

log = structlog.get_logger(__name__)

#: 4.0.0 dropped JoinGroup versions that clients still use; 4.0.1 restored them.
KAFKA_VERSION = "4.4.0"
SCALA_VERSION = "2.13"
LOG4J_VERSION = "2.25.3"
DEPENDENCY_PLUGIN_VERSION = "3.8.1"
MIN_JAVA = 17
CACHE_ENV = "WARMHANDOFF_KAFKA_CACHE"
#: A first download is about 45 jars (43 MB) plus Maven's plugin; generous for a slow mirror.
DOWNLOAD_TIMEOUT_S = 600.0

# What mvn prints when it cannot reach the repository (as against a missing artifact).
_UNREACHABLE = re.compile(
    r"Could not transfer|transfer failed|UnknownHost|Unknown host|Connection refused|"
    r"timed out|Network is unreachable|No route to host|Connect to \S+ failed",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class KafkaJars:
    """A Kafka version's jars in the cache, and the Java that runs them."""

    version: str
    directory: Path
    java: str

    @property
    def classpath(self) -> str:
        """The JVM class path: every jar of the directory."""
        return str(self.directory / "*")


def maven_pom(version: str = KAFKA_VERSION) -> str:
    """The pom whose runtime dependencies are a broker of `version` and its SLF4J binding."""
    deps = [
        ("org.apache.kafka", f"kafka_{SCALA_VERSION}", version),
        ("org.apache.logging.log4j", "log4j-slf4j-impl", LOG4J_VERSION),
        ("org.apache.logging.log4j", "log4j-core", LOG4J_VERSION),
    ]
    listed = "\n".join(
        f"    <dependency><groupId>{g}</groupId><artifactId>{a}</artifactId>"
        f"<version>{v}</version></dependency>"
        for g, a, v in deps
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by warmhandoff: the Apache Kafka broker and its SLF4J binding, nothing else. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>warmhandoff.local</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>{version}</version>
  <packaging>pom</packaging>
  <dependencies>
{listed}
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>{DEPENDENCY_PLUGIN_VERSION}</version>
        <configuration><includeScope>runtime</includeScope></configuration>
      </plugin>
    </plugins>
  </build>
</project>
"""


def cache_root(env: Mapping[str, str] | None = None) -> Path:
    """Where Kafka jars are cached on this machine."""
    env = os.environ if env is None else env
    if env.get(CACHE_ENV):
        return Path(env[CACHE_ENV]).expanduser()
    xdg = env.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "warmhandoff" / "kafka"


def version_dir(version: str, root: Path) -> Path:
    """The cache directory of one version and pom: a changed pom is a new directory."""
    digest = hashlib.sha256(maven_pom(version).encode()).hexdigest()[:8]
    return root / f"{version}-{digest}"


def find_java(env: Mapping[str, str] | None = None) -> str:
    """The `java` to run Kafka with ($JAVA_HOME/bin/java, else PATH), checked to be 17+."""
    env = os.environ if env is None else env
    home = env.get("JAVA_HOME")
    if home:
        java = str(Path(home) / "bin" / "java")
        if not os.access(java, os.X_OK):
            raise KafkaUnavailableError(
                f"no Java: JAVA_HOME={home} has no bin/java "
                f"(Apache Kafka needs Java {MIN_JAVA} or later)"
            )
    else:
        found = shutil.which("java", path=env.get("PATH", ""))
        if found is None:
            raise KafkaUnavailableError(
                "no Java: no `java` on PATH and JAVA_HOME is unset "
                f"(Apache Kafka needs Java {MIN_JAVA} or later)"
            )
        java = found
    major = java_major(java)
    if major < MIN_JAVA:
        raise KafkaUnavailableError(
            f"Java {major} at {java} is too old: Apache Kafka needs Java {MIN_JAVA} or later "
            "(set JAVA_HOME to a newer JDK)"
        )
    return java


def java_major(java: str) -> int:
    """The major version `java -version` reports (8 for `1.8.0_x`)."""
    try:
        done = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise KafkaUnavailableError(f"no Java: {java} -version failed: {exc}") from None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr + done.stdout)
    if done.returncode != 0 or found is None:
        raise KafkaUnavailableError(f"no Java: {java} -version printed no version")
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def provision(
    version: str = KAFKA_VERSION,
    *,
    cache: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = DOWNLOAD_TIMEOUT_S,
) -> KafkaJars:
    """The jars of Kafka `version`, downloaded with `mvn` unless already cached; blocks."""
    env = dict(os.environ if env is None else env)
    java = find_java(env)
    target = version_dir(version, cache or cache_root(env))
    jars = target / "jars"
    if _complete(jars, version):
        return KafkaJars(version, jars, java)
    mvn = shutil.which("mvn", path=env.get("PATH", ""))
    if mvn is None:
        raise KafkaUnavailableError(
            f"no Maven: no `mvn` on PATH, needed once to download Apache Kafka {version} "
            f"from Maven Central into {target}"
        )
    target.mkdir(parents=True, exist_ok=True)
    with (target.parent / f"{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be downloading the same
        if not _complete(jars, version):
            _download(mvn, version, target, env, timeout)
    return KafkaJars(version, jars, java)


def _complete(jars: Path, version: str) -> bool:
    return (jars / f"kafka_{SCALA_VERSION}-{version}.jar").is_file()


def _download(mvn: str, version: str, target: Path, env: dict[str, str], timeout: float) -> None:
    pom = target / "pom.xml"
    pom.write_text(maven_pom(version))
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=target))
    log_path = target / "mvn.log"
    command = [
        mvn,
        "-B",
        "-q",
        "-f",
        str(pom),
        f"org.apache.maven.plugins:maven-dependency-plugin:{DEPENDENCY_PLUGIN_VERSION}"
        ":copy-dependencies",
        f"-DoutputDirectory={staging}",
    ]
    log.info("kafka.download", version=version, into=str(target))
    try:
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                env=env,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise KafkaUnavailableError(
                f"Maven Central did not answer: mvn could not download Apache Kafka {version} "
                f"within {timeout:g} s"
            ) from None
        log_path.write_text(done.stdout + done.stderr)
        if done.returncode != 0 or not _complete(staging, version):
            raise KafkaUnavailableError(_mvn_failure(version, done.stdout + done.stderr, log_path))
        os.rename(staging, target / "jars")
        log.info("kafka.downloaded", version=version, jars=len(list((target / "jars").iterdir())))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _mvn_failure(version: str, output: str, log_path: Path) -> str:
    """One line: why mvn could not fetch the jars."""
    errors = [
        line.removeprefix("[ERROR]").strip()
        for line in _strip_ansi(output).splitlines()
        if line.startswith("[ERROR]") and line.removeprefix("[ERROR]").strip()
    ]
    first = errors[0] if errors else "no error printed"
    if len(first) > 240:
        first = first[:240] + "..."
    if _UNREACHABLE.search(output):
        return f"Maven Central is unreachable: cannot download Apache Kafka {version}: {first}"
    return f"mvn could not download Apache Kafka {version}: {first} (log: {log_path})"


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)

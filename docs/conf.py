"""Sphinx configuration of the celerylab course site (docs/).

Build it with `make docs` (scripts/docs.sh): warnings are errors, and every link inside the site
is checked afterwards. The module pages under modules/ are generated from course/ by the
`coursepages` extension at every build; they are not committed.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "celerylab"
author = "the celerylab course team"
copyright = "celerylab contributors"

extensions = ["myst_parser", "coursepages"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "README.md"]
myst_heading_anchors = 4  # the docs link to their own sections (#tls, #firewall, ...)
myst_enable_extensions = ["colon_fence"]
html_theme = "alabaster"
html_title = "celerylab course"
html_static_path = []

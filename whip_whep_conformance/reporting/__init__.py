"""Report writers: results.json and JUnit, the HTML report and its SVG plots, the merge matrix."""

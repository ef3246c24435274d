# The QC report of the run: one self-contained HTML file, built after everything else.
from opsflow.report import REPORT_NAME, write_report


rule report:
    input:
        WORKFLOW.all_targets(),
    output:
        str(WORKFLOW.root / REPORT_NAME),
    log:
        str(WORKFLOW.root / "logs" / "report" / "report.log"),
    run:
        with step_log(log[0]):
            write_report(WORKFLOW.root, output[0])

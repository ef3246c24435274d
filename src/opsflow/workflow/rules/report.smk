# The QC report of the run: one self-contained HTML file, built after everything else.
from opsflow.paths import REPORT_NAME


rule report:
    input:
        lambda wildcards: WORKFLOW.report_inputs(),
    output:
        str(WORKFLOW.root / REPORT_NAME),
    log:
        str(WORKFLOW.root / "logs" / "report" / "report.log"),
    run:
        from opsflow.report import write_report  # matplotlib: only where a report is made

        with step_log(log[0]):
            write_report(WORKFLOW.root, output[0])

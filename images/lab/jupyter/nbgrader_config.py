# Students reach the course exchange only through celerylab's exchange service
# (celerylab_lab.exchange); they never see the exchange's files.
c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file
c.ExchangeFactory.fetch_assignment = "celerylab_lab.exchange.FetchAssignment"
c.ExchangeFactory.fetch_feedback = "celerylab_lab.exchange.FetchFeedback"
c.ExchangeFactory.list = "celerylab_lab.exchange.List"
c.ExchangeFactory.submit = "celerylab_lab.exchange.Submit"

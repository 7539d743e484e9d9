"""The agent: a LangGraph graph that classifies, retrieves, decides, and answers or escalates."""

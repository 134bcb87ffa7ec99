"""shopapi: a headless commerce API that never charges a customer twice."""

"""(tasks registered here are added by the compute issue)"""

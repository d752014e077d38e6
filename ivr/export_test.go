package ivr

// CallbackPolls returns how many passes the callback worker has made (tests
// wait for passes to know it looked and declined).
func (s *Server) CallbackPolls() uint64 { return s.cb.polls.Load() }
